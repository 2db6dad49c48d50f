namespace DeepGen.Distributed.Collectives;

/// <summary>Element format of all-reduce payloads on the wire. Sums are always accumulated in fp32.</summary>
public enum WireFormat
{
    /// <summary>IEEE fp32, exact.</summary>
    Fp32,

    /// <summary>IEEE fp16: half the bytes, 11-bit significand, magnitudes from about 6e-8 to 65504.</summary>
    Fp16,

    /// <summary>bfloat16: half the bytes, fp32's exponent range with an 8-bit significand.</summary>
    Bf16,
}
