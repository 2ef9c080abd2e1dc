// P/Invoke declarations of libstella's C API (client/include/stella/stella.h), source-generated
// by LibraryImport: blittable arguments only, so a call allocates nothing.
using System.Reflection;
using System.Runtime.InteropServices;

namespace Stella;

[StructLayout(LayoutKind.Sequential)]
internal struct NativePermissions
{
    public uint Mode;
    public uint Flags;
    public long Uid;
    public long Gid;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NativeRingOptions
{
    public uint StructSize;
    public uint MaxReaders;
    public uint MaxWriters;
    public uint SpinIterations;
    public long RecoveryTimeoutNs;
    public NativePermissions Permissions;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NativeReaderOptions
{
    public uint StructSize;
    public uint Start;
    public uint SpinIterations;
    public uint Reserved;
    public long RecoveryTimeoutNs;
}

[StructLayout(LayoutKind.Sequential)]
internal struct NativeBlobOptions
{
    public uint StructSize;
    public uint ReadOnly;
    public NativePermissions Permissions;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct NativeView
{
    public byte* Data;
    public nuint Length;
    public ulong Sequence;
}

internal static unsafe partial class Native
{
    internal const string Library = "stella";

    /// Where libstella.so is found: $STELLA_LIBRARY (a file) first, then the normal search
    /// (LD_LIBRARY_PATH, the system's library directories).
    static Native()
    {
        NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        string? file = Environment.GetEnvironmentVariable("STELLA_LIBRARY");
        if (!string.IsNullOrEmpty(file)) return NativeLibrary.Load(file);
        if (NativeLibrary.TryLoad("libstella.so", assembly, path, out IntPtr handle)) return handle;
        foreach (string candidate in new[] { "libstella.so.0", "libstella.so.1" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out handle)) return handle;
        }
        throw new DllNotFoundException(
            "Stella: libstella.so was not found: set STELLA_LIBRARY to its path, or LD_LIBRARY_PATH to its directory " +
            "(a CMake build has it in BUILD_DIR/client/), or install it (cmake --install, the .deb)");
    }

    [LibraryImport(Library)] internal static partial byte* stella_status_name(int status);
    [LibraryImport(Library)] internal static partial int stella_last_error_code();
    [LibraryImport(Library)] internal static partial byte* stella_last_error_message();
    [LibraryImport(Library)] internal static partial byte* stella_last_error_segment();
    [LibraryImport(Library)] internal static partial void stella_clear_error();
    [LibraryImport(Library)] internal static partial byte* stella_version();

    [LibraryImport(Library)] internal static partial void stella_ring_options_init(NativeRingOptions* options);
    [LibraryImport(Library)]
    internal static partial int stella_writer_open(byte* name, int mode, nuint capacity, int behavior,
                                                   NativeRingOptions* options, IntPtr* writer);
    [LibraryImport(Library)] internal static partial void stella_writer_close(IntPtr writer);
    [LibraryImport(Library)] internal static partial int stella_writer_write(IntPtr writer, byte* data, nuint length, long timeoutNs);
    [LibraryImport(Library)] internal static partial int stella_writer_try_write(IntPtr writer, byte* data, nuint length);
    [LibraryImport(Library)] internal static partial int stella_writer_claim(IntPtr writer, nuint length, long timeoutNs, byte** data);
    [LibraryImport(Library)] internal static partial int stella_writer_try_claim(IntPtr writer, nuint length, byte** data);
    [LibraryImport(Library)] internal static partial int stella_writer_commit(IntPtr writer);
    [LibraryImport(Library)] internal static partial int stella_writer_abort(IntPtr writer);
    [LibraryImport(Library)] internal static partial nuint stella_writer_capacity(IntPtr writer);
    [LibraryImport(Library)] internal static partial nuint stella_writer_max_message_size(IntPtr writer);
    [LibraryImport(Library)] internal static partial int stella_writer_behavior(IntPtr writer);
    [LibraryImport(Library)] internal static partial ulong stella_writer_messages_written(IntPtr writer);
    [LibraryImport(Library)] internal static partial int stella_ring_remove(byte* name);

    [LibraryImport(Library)] internal static partial void stella_reader_options_init(NativeReaderOptions* options);
    [LibraryImport(Library)] internal static partial int stella_reader_open(byte* name, NativeReaderOptions* options, IntPtr* reader);
    [LibraryImport(Library)] internal static partial void stella_reader_close(IntPtr reader);
    [LibraryImport(Library)] internal static partial int stella_reader_try_read(IntPtr reader, byte* buffer, nuint capacity, nuint* length);
    [LibraryImport(Library)] internal static partial int stella_reader_read(IntPtr reader, byte* buffer, nuint capacity, nuint* length, long timeoutNs);
    [LibraryImport(Library)] internal static partial int stella_reader_try_peek(IntPtr reader, NativeView* view);
    [LibraryImport(Library)] internal static partial int stella_reader_peek(IntPtr reader, NativeView* view, long timeoutNs);
    [LibraryImport(Library)] internal static partial int stella_reader_release(IntPtr reader);
    [LibraryImport(Library)] internal static partial nuint stella_reader_max_message_size(IntPtr reader);
    [LibraryImport(Library)] internal static partial ulong stella_reader_messages_read(IntPtr reader);
    [LibraryImport(Library)] internal static partial ulong stella_reader_messages_lost(IntPtr reader);
    [LibraryImport(Library)] internal static partial ulong stella_reader_evictions(IntPtr reader);

    [LibraryImport(Library)] internal static partial void stella_blob_options_init(NativeBlobOptions* options);
    [LibraryImport(Library)]
    internal static partial int stella_blob_open(byte* name, int mode, nuint capacity, NativeBlobOptions* options, IntPtr* blob);
    [LibraryImport(Library)] internal static partial void stella_blob_close(IntPtr blob);
    [LibraryImport(Library)] internal static partial int stella_blob_write(IntPtr blob, byte* data, nuint length);
    [LibraryImport(Library)] internal static partial int stella_blob_try_write(IntPtr blob, byte* data, nuint length);
    [LibraryImport(Library)] internal static partial int stella_blob_read(IntPtr blob, byte* buffer, nuint capacity, nuint* length);
    [LibraryImport(Library)] internal static partial int stella_blob_claim(IntPtr blob, nuint maxSize, byte** data);
    [LibraryImport(Library)] internal static partial int stella_blob_commit(IntPtr blob, nuint length);
    [LibraryImport(Library)] internal static partial int stella_blob_abort(IntPtr blob);
    [LibraryImport(Library)] internal static partial nuint stella_blob_capacity(IntPtr blob);
    [LibraryImport(Library)] internal static partial ulong stella_blob_generation(IntPtr blob);
    [LibraryImport(Library)] internal static partial int stella_blob_remove(byte* name);

    internal const int Ok = 0;
    internal const int Empty = 12;
    internal const int Timeout = 14;
    internal const int Evicted = 18;
    internal const int WouldBlock = 100;
    internal const int BufferTooSmall = 101;
    internal const int Overwritten = 102;

    /// Nanoseconds for a C timeout: null or Timeout.InfiniteTimeSpan (any negative) waits forever.
    internal static long Nanoseconds(TimeSpan? timeout)
    {
        if (timeout is not TimeSpan t || t < TimeSpan.Zero) return -1;
        return t.Ticks > long.MaxValue / 100 ? long.MaxValue : t.Ticks * 100;
    }

    internal static string Utf8(byte* text) => text == null ? "" : Marshal.PtrToStringUTF8((IntPtr)text) ?? "";

    /// A segment name as NUL-terminated UTF-8 (opening allocates; the hot path never calls this).
    internal static byte[] Name(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(name) + 1];
        System.Text.Encoding.UTF8.GetBytes(name, bytes);
        return bytes;
    }

    /// Throws the thread's last error for a failing status.
    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal static void Throw(int status, string name)
    {
        string message = stella_last_error_code() == status ? Utf8(stella_last_error_message()) : "";
        string segment = Utf8(stella_last_error_segment());
        if (message.Length == 0)
        {
            message = $"stella: segment '{name}': {Utf8(stella_status_name(status))}";
        }
        throw new StellaException((StellaErrorCode)status, segment.Length > 0 ? segment : name, message);
    }
}
