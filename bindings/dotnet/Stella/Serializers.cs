using System.Buffers;
using System.Dynamic;
using System.Text.Json;
using MessagePack;
using MessagePack.Resolvers;

namespace Stella;

/// <summary>Turns values into bytes and back (the original library's pluggable serialization).
/// Serializers hold no native resources; Dispose exists for the original's <c>using var serializer</c>.</summary>
public interface ISerializer : IDisposable
{
    /// <summary>Appends the encoding of <paramref name="value"/> to <paramref name="output"/>.</summary>
    void Serialize<T>(T value, IBufferWriter<byte> output);

    /// <summary>Decodes one value from <paramref name="data"/> (all of it).</summary>
    T? Deserialize<T>(ReadOnlyMemory<byte> data);

    /// <summary>The encoding as a new array (a convenience; the library uses the IBufferWriter form).</summary>
    byte[] Serialize<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Serialize(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>JSON text through System.Text.Json. Reading as <c>object</c> (or <c>dynamic</c>)
/// gives an <see cref="ExpandoObject"/> tree, so <c>value.Message</c> works as in the original.</summary>
public sealed class JsonSerializer : ISerializer
{
    private readonly JsonSerializerOptions? _options;
    [ThreadStatic] private static Utf8JsonWriter? s_writer;

    public JsonSerializer(JsonSerializerOptions? options = null) => _options = options;

    public void Serialize<T>(T value, IBufferWriter<byte> output)
    {
        Utf8JsonWriter writer = s_writer ??= new Utf8JsonWriter(output);
        writer.Reset(output);
        System.Text.Json.JsonSerializer.Serialize(writer, value, _options);
        writer.Flush();
    }

    public T? Deserialize<T>(ReadOnlyMemory<byte> data)
    {
        if (typeof(T) == typeof(object))
        {
            using JsonDocument doc = JsonDocument.Parse(data);
            return (T?)ToDynamic(doc.RootElement);
        }
        return System.Text.Json.JsonSerializer.Deserialize<T>(data.Span, _options);
    }

    private static object? ToDynamic(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                IDictionary<string, object?> obj = new ExpandoObject();
                foreach (JsonProperty p in e.EnumerateObject()) obj[p.Name] = ToDynamic(p.Value);
                return obj;
            case JsonValueKind.Array:
                return e.EnumerateArray().Select(ToDynamic).ToList();
            case JsonValueKind.String:
                return e.GetString();
            case JsonValueKind.Number:
                return e.TryGetInt64(out long l) ? l : e.GetDouble();
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    public void Dispose() { }
}

/// <summary>MessagePack (MessagePack-CSharp). The default resolver also takes types without
/// attributes (anonymous types, plain classes: maps keyed by member name);
/// <c>[MessagePackObject]</c> types with <c>[Key(n)]</c> encode as arrays, as msgpack-cxx's
/// MSGPACK_DEFINE does.</summary>
public sealed class MessagePackObjectSerializer : ISerializer
{
    private readonly MessagePackSerializerOptions _options;

    public MessagePackObjectSerializer(MessagePackSerializerOptions? options = null)
        => _options = options ?? MessagePackSerializerOptions.Standard.WithResolver(ContractlessStandardResolver.Instance);

    public void Serialize<T>(T value, IBufferWriter<byte> output) => MessagePackSerializer.Serialize(output, value, _options);

    public T? Deserialize<T>(ReadOnlyMemory<byte> data) => MessagePackSerializer.Deserialize<T>(data, _options);

    public void Dispose() { }
}

/// <summary>MemoryPack: types marked <c>[MemoryPackable]</c> (a .NET-only encoding).</summary>
public sealed class MemoryPackObjectSerializer : ISerializer
{
    public void Serialize<T>(T value, IBufferWriter<byte> output) => MemoryPack.MemoryPackSerializer.Serialize(output, value);

    public T? Deserialize<T>(ReadOnlyMemory<byte> data) => MemoryPack.MemoryPackSerializer.Deserialize<T>(data.Span);

    public void Dispose() { }
}

/// <summary>Protocol Buffers through protobuf-net: types marked <c>[ProtoContract]</c>.</summary>
public sealed class ProtobufObjectSerializer : ISerializer
{
    public void Serialize<T>(T value, IBufferWriter<byte> output) => ProtoBuf.Serializer.Serialize(output, value);

    public T? Deserialize<T>(ReadOnlyMemory<byte> data) => ProtoBuf.Serializer.Deserialize<T>(data);

    public void Dispose() { }
}
