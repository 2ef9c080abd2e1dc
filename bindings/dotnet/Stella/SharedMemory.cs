using System.Diagnostics.CodeAnalysis;
using System.Buffers;

namespace Stella;

/// <summary>One value shared between processes (stella::SharedMemory): writers are serialised,
/// readers take no lock and never see a torn value. Safe for many threads at once.</summary>
public sealed unsafe class SharedMemory : IDisposable
{
    private IntPtr _handle;
    private readonly ThreadLocal<ArrayBufferWriter<byte>> _scratch = new(() => new ArrayBufferWriter<byte>(256));
    private readonly ThreadLocal<byte[]> _buffer = new(() => new byte[256]);

    /// <param name="name">segment name: 1-64 of [A-Za-z0-9._-]</param>
    /// <param name="mode">Create, Open or OpenOrCreate</param>
    /// <param name="capacity">the largest value in bytes (ignored by Open)</param>
    /// <param name="readOnly">map read-only (Open only): writes then fail</param>
    public SharedMemory(string name, SharedMemoryMode mode, long capacity = 0, bool readOnly = false)
    {
        Name = name;
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        NativeBlobOptions options;
        Native.stella_blob_options_init(&options);
        options.ReadOnly = readOnly ? 1u : 0u;
        IntPtr handle;
        fixed (byte* n = Native.Name(name))
        {
            int rc = Native.stella_blob_open(n, (int)mode, (nuint)capacity, &options, &handle);
            if (rc != Native.Ok) Native.Throw(rc, name);
        }
        _handle = handle;
    }

    ~SharedMemory() => Close();

    /// <summary>The segment's name.</summary>
    public string Name { get; }
    /// <summary>The largest value, in bytes.</summary>
    public long Capacity => (long)Native.stella_blob_capacity(Handle);
    /// <summary>Values written so far (0: never written): compare two readings to see a change.</summary>
    public long Generation => (long)Native.stella_blob_generation(Handle);

    private IntPtr Handle
    {
        get
        {
            if (_handle == IntPtr.Zero) Guard.Disposed(nameof(SharedMemory));
            return _handle;
        }
    }

    /// <summary>Serializes <paramref name="value"/> and publishes it as the new value.</summary>
    public void Write<T>(T value, ISerializer serializer)
    {
        Write(Codec.Encode(serializer, value, _scratch.Value!, Name));
    }

    /// <summary>Publishes raw bytes as the new value, waiting for other writers.</summary>
    public void Write(ReadOnlySpan<byte> value)
    {
        int rc;
        fixed (byte* p = value) rc = Native.stella_blob_write(Handle, p, (nuint)value.Length);
        if (rc != Native.Ok) Native.Throw(rc, Name);
    }

    /// <summary>Like <see cref="Write(ReadOnlySpan{byte})"/>; false if another writer holds the lock.</summary>
    public bool TryWrite(ReadOnlySpan<byte> value)
    {
        int rc;
        fixed (byte* p = value) rc = Native.stella_blob_try_write(Handle, p, (nuint)value.Length);
        if (rc == Native.Ok) return true;
        if (rc == Native.WouldBlock) return false;
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>The current value, deserialized. Throws <see cref="StellaErrorCode.Empty"/> if it
    /// was never written (see <see cref="TryRead{T}"/>).</summary>
    public T Read<T>(ISerializer serializer)
    {
        if (!TryRead(serializer, out T? value))
        {
            throw new StellaException(StellaErrorCode.Empty, Name, $"stella: segment '{Name}': no value was ever written");
        }
        return value;
    }

    /// <summary>The current value, deserialized; false if none was ever written.</summary>
    public bool TryRead<T>(ISerializer serializer, [NotNullWhen(true)] out T? value)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        byte[] buffer = _buffer.Value!;
        while (true)
        {
            nuint n;
            int rc;
            fixed (byte* p = buffer) rc = Native.stella_blob_read(Handle, p, (nuint)buffer.Length, &n);
            if (rc == Native.BufferTooSmall)
            {
                buffer = _buffer.Value = new byte[(int)n];
                continue;
            }
            if (rc == Native.Empty)
            {
                value = default;
                return false;
            }
            if (rc != Native.Ok) Native.Throw(rc, Name);
            value = Codec.Decode<T>(serializer, new ReadOnlyMemory<byte>(buffer, 0, (int)n), Name, "value");
            return true;
        }
    }

    /// <summary>Copies the current value into <paramref name="buffer"/>; false if never written.
    /// Throws <see cref="StellaErrorCode.BufferTooSmall"/> if it does not fit (Capacity suffices).</summary>
    public bool TryRead(Span<byte> buffer, out int length)
    {
        nuint n;
        int rc;
        fixed (byte* p = buffer) rc = Native.stella_blob_read(Handle, p, (nuint)buffer.Length, &n);
        length = rc == Native.Ok ? (int)n : 0;
        if (rc == Native.Ok) return true;
        if (rc == Native.Empty) return false;
        if (rc == Native.BufferTooSmall)
        {
            throw new StellaException(StellaErrorCode.BufferTooSmall, Name,
                                      $"stella: segment '{Name}': the value is {n} bytes, the buffer {buffer.Length}");
        }
        Native.Throw(rc, Name);
        return false;
    }

    /// <summary>Zero copy: takes the writer lock and returns <paramref name="maxSize"/> bytes to
    /// fill in place; <see cref="Commit"/> publishes the first bytes of them (or <see cref="Abort"/>).
    /// Readers keep seeing the previous value until then. One claim per thread.</summary>
    public Span<byte> Claim(int maxSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxSize);
        byte* data;
        int rc = Native.stella_blob_claim(Handle, (nuint)maxSize, &data);
        if (rc != Native.Ok) Native.Throw(rc, Name);
        return new Span<byte>(data, maxSize);
    }

    /// <summary>Publishes the first <paramref name="length"/> bytes of this thread's claim.</summary>
    public void Commit(int length)
    {
        int rc = Native.stella_blob_commit(Handle, (nuint)length);
        if (rc != Native.Ok) Native.Throw(rc, Name);
    }

    /// <summary>Abandons this thread's claim.</summary>
    public void Abort()
    {
        int rc = Native.stella_blob_abort(Handle);
        if (rc != Native.Ok) Native.Throw(rc, Name);
    }

    /// <summary>Removes the name (mapped handles keep working); false if there was none.</summary>
    public static bool Remove(string name)
    {
        fixed (byte* n = Native.Name(name)) return Native.stella_blob_remove(n) == Native.Ok;
    }

    private void Close()
    {
        IntPtr h = Interlocked.Exchange(ref _handle, IntPtr.Zero);
        if (h != IntPtr.Zero) Native.stella_blob_close(h);
    }

    /// <summary>Unmaps the segment (it and its value live on).</summary>
    public void Dispose()
    {
        Close();
        _scratch.Dispose();
        _buffer.Dispose();
        GC.SuppressFinalize(this);
    }
}
