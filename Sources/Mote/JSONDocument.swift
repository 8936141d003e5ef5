import CMote
import Foundation

/// Why a JSON document or read failed.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The C core's error (`MOTE_ERR_JSON_SYNTAX`, `MOTE_ERR_NOT_FOUND`, `MOTE_ERR_JSON_TYPE`, ...).
    public let code: MoteCoreError
    /// For syntax errors: the byte offset of the offending byte.
    public let offset: Int?
    /// For syntax errors: the parser's reason.
    public let reason: String?

    public var description: String {
        var s = code.description
        if let reason { s += ": \(reason)" }
        if let offset { s += " at byte \(offset)" }
        return s
    }
}

/// The JSON value kinds.
public enum JSONType: Sendable, Hashable {
    case object, array, string, number, bool, null
}

/// A JSON text validated once by the C core and read in place (no tree is built).
///
/// ```swift
/// let doc = try JSONDocument(bytes: message.payload)
/// let setpoint = doc["state"]["desired"]["setpoint"].double
/// let on = doc.value(at: "state.lights[1].on").bool
/// let same = doc.value(at: "/state/lights/1/on").bool
/// ```
///
/// Subscripts never throw: a missing member gives a value whose ``JSONValue/exists`` is
/// false and whose typed accessors return nil. For whole structures, decode with Codable
/// (``JSONValue/decode(_:decoder:)``), which uses Foundation's `JSONDecoder` on the span.
public struct JSONDocument: Sendable {
    let storage: JSONStorage

    /// Validate `bytes` as one strict RFC 8259 JSON text.
    public init(bytes: [UInt8]) throws(JSONError) {
        storage = JSONStorage(bytes)
        var err = mote_json_error_t()
        let r = storage.withBase { base, len in mote_json_validate(base, len, &err) }
        if r != MOTE_OK.rawValue { throw JSONStorage.error(r, err) }
    }

    public init(string: String) throws(JSONError) {
        try self.init(bytes: Array(string.utf8))
    }

    public init(data: Data) throws(JSONError) {
        try self.init(bytes: [UInt8](data))
    }

    /// The document's top-level value.
    public var root: JSONValue {
        // The value's own span, without the whitespace around it (the C reads and iteration
        // take a value's exact span).
        var v = mote_json_value_t()
        let r = storage.withBase { base, len -> (Int32, Int) in
            let rc = mote_json_find(base, len, "", 0, &v, nil)
            guard rc == MOTE_OK.rawValue, let ptr = v.ptr else { return (rc, 0) }
            return (rc, base.distance(to: ptr))
        }
        guard r.0 == MOTE_OK.rawValue else {
            return JSONValue(storage: storage, offset: 0, length: storage.bytes.count, type: nil)
        }
        return JSONValue(storage: storage, offset: r.1, length: v.len, type: JSONStorage.type(v.type))
    }

    public subscript(key: String) -> JSONValue { root[key] }
    public subscript(index: Int) -> JSONValue { root[index] }

    /// The value at a dotted path (`"state.lights[1].on"`) or a JSON Pointer (`"/state/lights/1/on"`).
    public func value(at path: String) -> JSONValue { root.value(at: path) }

    /// Decode the whole document with Codable.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(storage.bytes))
    }

    /// The document's bytes.
    public var bytes: [UInt8] { storage.bytes }
}

/// Immutable document bytes shared by a document and the values read from it.
final class JSONStorage: Sendable {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func withBase<R>(_ body: (UnsafePointer<CChar>, Int) -> R) -> R {
        bytes.withUnsafeBufferPointer { bp in
            guard let base = bp.baseAddress, bp.count > 0 else {
                // An empty array may have no storage; the C calls still need a valid pointer.
                var zero: CChar = 0
                return body(&zero, 0)
            }
            return base.withMemoryRebound(to: CChar.self, capacity: bp.count) { body($0, bp.count) }
        }
    }

    static func type(_ t: mote_json_type_t) -> JSONType? {
        switch t {
        case MOTE_JSON_OBJECT: return .object
        case MOTE_JSON_ARRAY: return .array
        case MOTE_JSON_STRING: return .string
        case MOTE_JSON_NUMBER: return .number
        case MOTE_JSON_BOOL: return .bool
        case MOTE_JSON_NULL: return .null
        default: return nil
        }
    }

    static func cType(_ t: JSONType) -> mote_json_type_t {
        switch t {
        case .object: return MOTE_JSON_OBJECT
        case .array: return MOTE_JSON_ARRAY
        case .string: return MOTE_JSON_STRING
        case .number: return MOTE_JSON_NUMBER
        case .bool: return MOTE_JSON_BOOL
        case .null: return MOTE_JSON_NULL
        }
    }

    static func error(_ r: Int32, _ e: mote_json_error_t) -> JSONError {
        if r == MOTE_ERR_JSON_SYNTAX.rawValue || r == MOTE_ERR_JSON_DEPTH.rawValue {
            return JSONError(code: MoteCoreError(code: r), offset: e.offset,
                             reason: String(cString: mote_json_reason_text(e.reason)))
        }
        return JSONError(code: MoteCoreError(code: r), offset: nil, reason: nil)
    }
}

/// One value inside a ``JSONDocument``: a span of its bytes (or a missing value).
public struct JSONValue: Sendable {
    let storage: JSONStorage
    let offset: Int
    let length: Int
    /// nil when the value does not exist (missing key, index out of range, wrong container).
    public let type: JSONType?

    /// Whether the value exists.
    public var exists: Bool { type != nil }

    static func missing(_ s: JSONStorage) -> JSONValue { JSONValue(storage: s, offset: 0, length: 0, type: nil) }

    /// Run a C read on this value's span.
    private func withCValue<R>(_ body: (UnsafePointer<mote_json_value_t>, UnsafePointer<CChar>) -> R) -> R? {
        guard let type else { return nil }
        return storage.withBase { base, _ in
            var v = mote_json_value_t(ptr: base + offset, len: length, type: JSONStorage.cType(type))
            return body(&v, base)
        }
    }

    private func wrap(_ v: mote_json_value_t, base: UnsafePointer<CChar>) -> JSONValue {
        JSONValue(storage: storage, offset: base.distance(to: v.ptr), length: v.len, type: JSONStorage.type(v.type))
    }

    /// Object member by key (missing if absent or not an object).
    public subscript(key: String) -> JSONValue {
        guard type == .object else { return .missing(storage) }
        let k = Array(key.utf8)
        return withCValue { v, base in
            k.withUnsafeBufferPointer { kp in
                kp.withMemoryRebound(to: CChar.self) { kc in
                    var out = mote_json_value_t()
                    let r = mote_json_member(v, kc.baseAddress, kc.count, &out)
                    return r == MOTE_OK.rawValue ? wrap(out, base: base) : .missing(storage)
                }
            }
        } ?? .missing(storage)
    }

    /// Array element by index (missing if out of range or not an array).
    public subscript(index: Int) -> JSONValue {
        guard type == .array, index >= 0 else { return .missing(storage) }
        return withCValue { v, base in
            var out = mote_json_value_t()
            let r = mote_json_element(v, index, &out)
            return r == MOTE_OK.rawValue ? wrap(out, base: base) : .missing(storage)
        } ?? .missing(storage)
    }

    /// The value at a dotted path or JSON Pointer, relative to this value.
    public func value(at path: String) -> JSONValue {
        (try? find(path)) ?? .missing(storage)
    }

    /// Like ``value(at:)`` but throws why the path did not resolve.
    public func find(_ path: String) throws(JSONError) -> JSONValue {
        guard type != nil else { throw JSONError(code: MoteCoreError(code: MOTE_ERR_NOT_FOUND.rawValue), offset: nil, reason: nil) }
        let p = Array(path.utf8)
        let result: Result<JSONValue, JSONError> = withCValue { v, base in
            p.withUnsafeBufferPointer { pp in
                pp.withMemoryRebound(to: CChar.self) { pc in
                    var out = mote_json_value_t()
                    var err = mote_json_error_t()
                    let r = mote_json_find(v.pointee.ptr, v.pointee.len, pc.baseAddress, pc.count, &out, &err)
                    if r == MOTE_OK.rawValue { return .success(wrap(out, base: base)) }
                    return .failure(JSONStorage.error(r, err))
                }
            }
        }!
        return try result.get()
    }

    /// The raw JSON text of this value (a view of the document, not a copy until converted).
    public var rawBytes: ArraySlice<UInt8> { exists ? storage.bytes[offset..<(offset + length)] : [] }
    public var rawText: String { String(decoding: rawBytes, as: UTF8.self) }

    public var string: String? {
        guard type == .string else { return nil }
        return withCValue { v, _ -> String? in
            var needed = 0
            var small = [CChar](repeating: 0, count: max(length, 1))
            var r = mote_json_get_string(v, &small, small.count, &needed)
            if r == MOTE_ERR_BUFFER_TOO_SMALL.rawValue {
                small = [CChar](repeating: 0, count: needed + 1)
                r = mote_json_get_string(v, &small, small.count, &needed)
            }
            guard r == MOTE_OK.rawValue else { return nil }
            return small.withUnsafeBufferPointer { bp in
                bp.withMemoryRebound(to: UInt8.self) { String(decoding: UnsafeBufferPointer(start: $0.baseAddress, count: needed), as: UTF8.self) }
            }
        } ?? nil
    }

    public var int64: Int64? {
        guard type == .number else { return nil }
        return withCValue { v, _ -> Int64? in
            var out: Int64 = 0
            return mote_json_get_int64(v, &out) == MOTE_OK.rawValue ? out : nil
        } ?? nil
    }

    public var int: Int? { int64.flatMap { Int(exactly: $0) } }

    public var double: Double? {
        guard type == .number else { return nil }
        return withCValue { v, _ -> Double? in
            var out = 0.0
            return mote_json_get_double(v, &out) == MOTE_OK.rawValue ? out : nil
        } ?? nil
    }

    public var bool: Bool? {
        guard type == .bool else { return nil }
        return withCValue { v, _ -> Bool? in
            var out = false
            return mote_json_get_bool(v, &out) == MOTE_OK.rawValue ? out : nil
        } ?? nil
    }

    public var isNull: Bool { type == .null }

    /// Elements of an array (empty for other types).
    public var elements: [JSONValue] {
        type == .array ? members.map(\.value) : []
    }

    /// Members of an object in document order (keys empty for arrays).
    public var members: [(key: String, value: JSONValue)] {
        guard type == .object || type == .array else { return [] }
        return withCValue { v, base -> [(key: String, value: JSONValue)] in
            var it = mote_json_iter_t()
            guard mote_json_iter_init(&it, v) == MOTE_OK.rawValue else { return [] }
            var out: [(key: String, value: JSONValue)] = []
            var k = mote_json_value_t()
            var item = mote_json_value_t()
            while mote_json_iter_next(&it, &k, &item, nil) == MOTE_OK.rawValue {
                let key = k.type == MOTE_JSON_STRING ? (wrap(k, base: base).string ?? "") : ""
                out.append((key, wrap(item, base: base)))
            }
            return out
        } ?? []
    }

    /// Object keys in document order.
    public var keys: [String] { type == .object ? members.map(\.key) : [] }

    /// Decode this value with Codable (Foundation's JSONDecoder over the span's bytes).
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        guard exists else {
            throw JSONError(code: MoteCoreError(code: MOTE_ERR_NOT_FOUND.rawValue), offset: nil, reason: nil)
        }
        return try decoder.decode(T.self, from: Data(rawBytes))
    }
}

extension MQTTMessage {
    /// The payload as a validated ``JSONDocument``.
    public func json() throws(JSONError) -> JSONDocument { try JSONDocument(bytes: payload) }

    /// Decode the payload with Codable.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(payload))
    }
}

extension MQTTClient {
    /// Publish a Codable value as JSON (Foundation's JSONEncoder).
    public func publish<T: Encodable>(to topic: String, json value: T, qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                                      encoder: JSONEncoder = JSONEncoder()) async throws {
        var properties = MQTTPublishProperties()
        if configuration.protocolVersion == .v5 {
            properties.contentType = "application/json"
            properties.payloadFormatIndicator = 1
        }
        let data = try encoder.encode(value)
        try await publish(to: topic, payload: [UInt8](data), qos: qos, retain: retain, properties: properties)
    }
}
