using System.Diagnostics.CodeAnalysis;

namespace Stella;

/// <summary>How a constructor treats an existing name (stella::SharedMemoryMode).</summary>
public enum SharedMemoryMode
{
    /// <summary>Create; <see cref="StellaErrorCode.AlreadyExists"/> if the name is taken.</summary>
    Create = 0,
    /// <summary>Open; <see cref="StellaErrorCode.NotFound"/> if there is none.</summary>
    Open = 1,
    /// <summary>Open if it exists, else create.</summary>
    OpenOrCreate = 2,
}

/// <summary>What a ring writer does when the ring is full (fixed when the ring is created).</summary>
public enum WriteBehavior
{
    /// <summary>Never wait: overwrite the oldest messages (the default).</summary>
    Overwrite = 0,
    /// <summary>Never overwrite what a live reader has not read: wait for space.</summary>
    Block = 1,
}

/// <summary>Where a new reader starts.</summary>
public enum StartPosition
{
    /// <summary>The oldest message still in the ring (the default).</summary>
    Oldest = 0,
    /// <summary>Only messages written after the reader opened.</summary>
    Latest = 1,
}

/// <summary>Stella's status codes (stella_status in stella.h; 1..18 are stella::Errc + 1).</summary>
public enum StellaErrorCode
{
    Ok = 0,
    InvalidName = 1,
    NotFound = 2,
    AlreadyExists = 3,
    Truncated = 4,
    BadMagic = 5,
    VersionMismatch = 6,
    WrongKind = 7,
    Corrupt = 8,
    NoSpace = 9,
    PermissionDenied = 10,
    ValueTooLarge = 11,
    Empty = 12,
    Serialization = 13,
    Timeout = 14,
    SlotsFull = 15,
    InvalidArgument = 16,
    Io = 17,
    Evicted = 18,
    TypeMismatch = 19,
    WouldBlock = 100,
    BufferTooSmall = 101,
    Overwritten = 102,
    OutOfMemory = 103,
    Internal = 104,
}

/// <summary>A Stella failure: its code, the segment it concerns and Stella's message
/// ("stella: segment 'NAME': ...").</summary>
public sealed class StellaException : Exception
{
    public StellaException(StellaErrorCode code, string segment, string message, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        Segment = segment;
    }

    /// <summary>Stella's code (the C API's stella_status).</summary>
    public StellaErrorCode Code { get; }

    /// <summary>The segment concerned ("" if none).</summary>
    public string Segment { get; }
}

/// <summary>Library-wide queries.</summary>
public static class StellaLibrary
{
    /// <summary>libstella's version, "MAJOR.MINOR.PATCH".</summary>
    public static unsafe string Version => Native.Utf8(Native.stella_version());

    /// <summary>The stable short name of a code ("not_found", "would_block", ...).</summary>
    public static unsafe string StatusName(StellaErrorCode code) => Native.Utf8(Native.stella_status_name((int)code));
}

internal static class Guard
{
    [DoesNotReturn]
    internal static void Disposed(string type) => throw new ObjectDisposedException(type);
}

/// Runs a serializer for the ring and the blob, turning its failures into
/// <see cref="StellaErrorCode.Serialization"/> errors that name the segment.
internal static class Codec
{
    internal static ReadOnlySpan<byte> Encode<T>(ISerializer serializer, T value, System.Buffers.ArrayBufferWriter<byte> scratch, string name)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        scratch.ResetWrittenCount();
        try
        {
            serializer.Serialize(value, scratch);
        }
        catch (Exception e) when (e is not StellaException)
        {
            throw new StellaException(StellaErrorCode.Serialization, name,
                                      $"stella: segment '{name}': serializing {typeof(T).Name} failed: {e.Message}", e);
        }
        return scratch.WrittenSpan;
    }

    /// Decodes <paramref name="data"/> (<paramref name="what"/>: "message", "value"); a value
    /// that decodes to null is an error too, so a successful read never yields null.
    [return: System.Diagnostics.CodeAnalysis.NotNull]
    internal static T Decode<T>(ISerializer serializer, ReadOnlyMemory<byte> data, string name, string what)
    {
        T? value;
        try
        {
            value = serializer.Deserialize<T>(data);
        }
        catch (Exception e) when (e is not StellaException)
        {
            throw new StellaException(StellaErrorCode.Serialization, name,
                                      $"stella: segment '{name}': deserializing the {data.Length}-byte {what} as {typeof(T).Name} failed: {e.Message}", e);
        }
        if (value is null)
        {
            throw new StellaException(StellaErrorCode.Serialization, name,
                                      $"stella: segment '{name}': the {data.Length}-byte {what} decoded as null ({typeof(T).Name} expected)");
        }
        return value;
    }
}
