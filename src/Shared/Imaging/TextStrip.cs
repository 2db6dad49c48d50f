namespace DeepGen.Distributed.Imaging;

/// <summary>
/// Draws short captions (upper-case letters, digits and <c>. / - : = ( )</c>) with a built-in 3×5
/// pixel font, scaled, so that a PNG can carry its own label without a font library.
/// </summary>
public static class TextStrip
{
    /// <summary>Glyph rows, top to bottom, 3 bits each (bit 2 = left column).</summary>
    private static readonly Dictionary<char, int[]> Glyphs = new()
    {
        ['A'] = [2, 5, 7, 5, 5], ['B'] = [6, 5, 6, 5, 6], ['C'] = [3, 4, 4, 4, 3], ['D'] = [6, 5, 5, 5, 6],
        ['E'] = [7, 4, 6, 4, 7], ['F'] = [7, 4, 6, 4, 4], ['G'] = [3, 4, 5, 5, 3], ['H'] = [5, 5, 7, 5, 5],
        ['I'] = [7, 2, 2, 2, 7], ['J'] = [1, 1, 1, 5, 2], ['K'] = [5, 5, 6, 5, 5], ['L'] = [4, 4, 4, 4, 7],
        ['M'] = [5, 7, 7, 5, 5], ['N'] = [6, 5, 5, 5, 5], ['O'] = [2, 5, 5, 5, 2], ['P'] = [6, 5, 6, 4, 4],
        ['Q'] = [2, 5, 5, 6, 3], ['R'] = [6, 5, 6, 5, 5], ['S'] = [3, 4, 2, 1, 6], ['T'] = [7, 2, 2, 2, 2],
        ['U'] = [5, 5, 5, 5, 7], ['V'] = [5, 5, 5, 5, 2], ['W'] = [5, 5, 7, 7, 5], ['X'] = [5, 5, 2, 5, 5],
        ['Y'] = [5, 5, 2, 2, 2], ['Z'] = [7, 1, 2, 4, 7],
        ['0'] = [7, 5, 5, 5, 7], ['1'] = [2, 6, 2, 2, 7], ['2'] = [6, 1, 2, 4, 7], ['3'] = [6, 1, 2, 1, 6],
        ['4'] = [5, 5, 7, 1, 1], ['5'] = [7, 4, 6, 1, 6], ['6'] = [3, 4, 7, 5, 7], ['7'] = [7, 1, 2, 2, 2],
        ['8'] = [7, 5, 7, 5, 7], ['9'] = [7, 5, 7, 1, 6],
        ['.'] = [0, 0, 0, 0, 2], ['/'] = [1, 1, 2, 4, 4], ['-'] = [0, 0, 7, 0, 0], [':'] = [0, 2, 0, 2, 0],
        ['='] = [0, 7, 0, 7, 0], ['('] = [1, 2, 2, 2, 1], [')'] = [4, 2, 2, 2, 4], [' '] = [0, 0, 0, 0, 0],
    };

    /// <summary>Height in pixels of one text line at <paramref name="scale"/>, spacing included.</summary>
    public static int LineHeight(int scale) => 7 * scale;

    /// <summary>
    /// Returns an RGB image of <paramref name="rgb"/> ([height, width] pixels) with a black strip
    /// below it holding <paramref name="lines"/> in white. Characters without a glyph are drawn as
    /// spaces; text is upper-cased and cut at the width.
    /// </summary>
    public static (int Height, byte[] Rgb) AppendBelow(byte[] rgb, int height, int width, IReadOnlyList<string> lines, int scale = 2)
    {
        var stripHeight = (lines.Count * LineHeight(scale)) + (2 * scale);
        var result = new byte[(height + stripHeight) * width * 3];
        rgb.CopyTo(result, 0);
        for (var line = 0; line < lines.Count; line++)
        {
            var top = height + scale + (line * LineHeight(scale));
            var text = lines[line].ToUpperInvariant();
            for (var c = 0; c < text.Length; c++)
            {
                var left = scale + (c * 4 * scale);
                if (left + (3 * scale) > width)
                {
                    break;
                }

                var glyph = Glyphs.TryGetValue(text[c], out var rows) ? rows : Glyphs[' '];
                for (var row = 0; row < 5; row++)
                {
                    for (var column = 0; column < 3; column++)
                    {
                        if ((glyph[row] & (4 >> column)) != 0)
                        {
                            Fill(result, width, top + (row * scale), left + (column * scale), scale);
                        }
                    }
                }
            }
        }

        return (height + stripHeight, result);
    }

    private static void Fill(byte[] rgb, int width, int top, int left, int size)
    {
        for (var y = top; y < top + size; y++)
        {
            for (var x = left; x < left + size; x++)
            {
                var offset = 3 * ((y * width) + x);
                rgb[offset] = rgb[offset + 1] = rgb[offset + 2] = 255;
            }
        }
    }
}
