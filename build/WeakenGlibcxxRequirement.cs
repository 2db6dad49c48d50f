using System;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>
/// Marks one libstdc++ version requirement of every libLibTorchSharp.so under a folder as weak,
/// but only when the system's libstdc++.so.6 does not define that version.
/// </summary>
public sealed class WeakenGlibcxxRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    private static readonly string[] LibStdCxxLocations =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    [Required]
    public string Directory { get; set; } = "";

    [Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return true;
        }

        var libraries = System.IO.Directory.GetFiles(Directory, "libLibTorchSharp.so", SearchOption.AllDirectories);
        if (libraries.Length == 0)
        {
            return true;
        }

        var systemLibrary = LibStdCxxLocations.FirstOrDefault(File.Exists);
        if (systemLibrary == null)
        {
            Log.LogWarning("libstdc++.so.6 was not found in the usual folders; libLibTorchSharp.so is left as shipped. Install libstdc++6 if TorchSharp fails to load.");
            return true;
        }

        if (ContainsAscii(File.ReadAllBytes(systemLibrary), VersionName))
        {
            Log.LogMessage(MessageImportance.Low, $"{systemLibrary} defines {VersionName}; libLibTorchSharp.so needs no change.");
            return true;
        }

        foreach (var library in libraries)
        {
            try
            {
                Patch(library, systemLibrary);
            }
            catch (InvalidDataException error)
            {
                Log.LogError($"Cannot mark {VersionName} weak in {library}: {error.Message}");
                return false;
            }
        }

        return !Log.HasLoggedErrors;
    }

    private void Patch(string path, string systemLibrary)
    {
        var image = File.ReadAllBytes(path);
        var entry = FindVersionNeedAuxEntry(image, VersionName);
        if (entry < 0)
        {
            Log.LogMessage(MessageImportance.Low, $"{path} does not require {VersionName}; nothing to change.");
            return;
        }

        var flagsOffset = entry + 4;
        var flags = BitConverter.ToUInt16(image, flagsOffset);
        if ((flags & VerFlagWeak) != 0)
        {
            return;
        }

        BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(image, flagsOffset);

        // The output copy may be a hard link into the NuGet cache: write a new file and rename it
        // over the old one so that the cache keeps the library exactly as shipped.
        var temporary = path + ".patching";
        File.WriteAllBytes(temporary, image);
        File.Delete(path);
        File.Move(temporary, path);
        Log.LogMessage(MessageImportance.Normal,
            $"{systemLibrary} lacks {VersionName}: marked that requirement weak in {path} so that TorchSharp loads.");
    }

    /// <summary>Returns the file offset of the Elf64_Vernaux entry naming <paramref name="version"/>, or -1.</summary>
    private static int FindVersionNeedAuxEntry(byte[] image, string version)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file");
        }

        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
        }

        var sectionTable = checked((int)BitConverter.ToUInt64(image, 0x28));
        var sectionEntrySize = BitConverter.ToUInt16(image, 0x3A);
        var sectionCount = BitConverter.ToUInt16(image, 0x3C);

        for (var index = 0; index < sectionCount; index++)
        {
            var header = sectionTable + index * sectionEntrySize;
            if (BitConverter.ToUInt32(image, header + 4) != ShtGnuVerneed)
            {
                continue;
            }

            var offset = checked((int)BitConverter.ToUInt64(image, header + 0x18));
            var stringSectionIndex = BitConverter.ToUInt32(image, header + 0x28);
            var needCount = BitConverter.ToUInt32(image, header + 0x2C);
            var stringHeader = sectionTable + (int)stringSectionIndex * sectionEntrySize;
            var strings = checked((int)BitConverter.ToUInt64(image, stringHeader + 0x18));

            var need = offset;
            for (var n = 0; n < needCount; n++)
            {
                var auxCount = BitConverter.ToUInt16(image, need + 2);
                var aux = need + (int)BitConverter.ToUInt32(image, need + 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var name = ReadCString(image, strings + (int)BitConverter.ToUInt32(image, aux + 8));
                    if (name == version)
                    {
                        return aux;
                    }

                    aux += (int)BitConverter.ToUInt32(image, aux + 12);
                }

                need += (int)BitConverter.ToUInt32(image, need + 12);
            }
        }

        return -1;
    }

    private static string ReadCString(byte[] image, int offset)
    {
        var end = Array.IndexOf(image, (byte)0, offset);
        if (end < 0)
        {
            throw new InvalidDataException("unterminated string in the dynamic string table");
        }

        return Encoding.ASCII.GetString(image, offset, end - offset);
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        var pattern = Encoding.ASCII.GetBytes(needle + "\0");
        for (var start = 0; start <= haystack.Length - pattern.Length; start++)
        {
            var match = true;
            for (var k = 0; k < pattern.Length && match; k++)
            {
                match = haystack[start + k] == pattern[k];
            }

            if (match)
            {
                return true;
            }
        }

        return false;
    }
}
