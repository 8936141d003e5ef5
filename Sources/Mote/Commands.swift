import CMote

/// Work handed from any task to a connection's owner thread.
enum Command: Sendable {
    case start(CheckedContinuation<MQTTSessionInfo, any Error>)
    case publish(OutgoingPublish, CheckedContinuation<Void, any Error>)
    case subscribe(SubscribeRequest)
    case unsubscribe(subscriberID: Int)
    case disconnect(CheckedContinuation<Void, Never>?)
}

/// A QoS 0 message without properties on the fast path: a plain value (no allocation of
/// its own), queued under the lock and published by the owner thread.
struct QoS0Message: Sendable {
    let topic: String
    let payload: [UInt8]
    let retain: Bool

    var outgoing: OutgoingPublish {
        OutgoingPublish(topic: topic, payload: payload, qos: .atMostOnce, retain: retain, properties: nil)
    }
}

/// A message on its way to the owner thread. A class so queues and hand-offs move one
/// reference instead of copying (and retaining) every field.
final class OutgoingPublish: Sendable {
    let topic: String
    let payload: [UInt8]
    let qos: MQTTQoS
    let retain: Bool
    /// nil when empty (the common case; v3.1.1 ignores them anyway).
    let properties: MQTTPublishProperties?

    init(topic: String, payload: [UInt8], qos: MQTTQoS, retain: Bool, properties: MQTTPublishProperties?) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties?.isEmpty == false ? properties : nil
    }
}

struct SubscribeRequest: Sendable {
    var subscriberID: Int
    var filter: String
    var qos: MQTTQoS
    var options: UInt8
    var sink: AsyncThrowingStream<MQTTMessage, any Error>.Continuation
    var ack: CheckedContinuation<Void, any Error>
}

/// A publish owned by the connection thread: its C-visible bytes (topic, payload, properties)
/// live in one malloc'd block that stays put until the C core is done with it.
final class PendingPublish {
    let message: OutgoingPublish
    var continuation: CheckedContinuation<Void, any Error>?
    let seq: UInt64
    private(set) var storage: UnsafeMutableRawPointer?
    private(set) var cMessage = mote_mqtt_publish_t()

    init(_ message: OutgoingPublish, continuation: CheckedContinuation<Void, any Error>?, seq: UInt64) {
        self.message = message
        self.continuation = continuation
        self.seq = seq
    }

    deinit { freeStorage() }

    /// Lay out topic, payload and (v5) properties once; the returned C message points into
    /// them (the struct itself is only read during the publish call).
    func prepare(version: MQTTProtocolVersion) throws(MQTTError) -> mote_mqtt_publish_t {
        if storage == nil {
            let topic = Array(message.topic.utf8)
            let properties = version == .v5 ? message.properties : nil
            let propsCap = properties.map { PropertyCodec.sizeBound($0) } ?? 0
            let total = topic.count + message.payload.count + propsCap
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 8)
            let base = raw.assumingMemoryBound(to: UInt8.self)
            topic.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: topic.count) }
            message.payload.withUnsafeBufferPointer { p in
                if let a = p.baseAddress { (base + topic.count).update(from: a, count: p.count) }
            }
            var propsLen = 0
            if let properties, propsCap > 0 {
                do {
                    propsLen = try PropertyCodec.encode(properties, into: base + topic.count + message.payload.count,
                                                        cap: propsCap)
                } catch {
                    raw.deallocate()
                    throw error
                }
            }
            storage = raw
            var m = mote_mqtt_publish_t()
            m.topic = mote_bytes_t(ptr: base, len: topic.count)
            m.payload = mote_bytes_t(ptr: base + topic.count, len: message.payload.count)
            m.qos = message.qos.rawValue
            m.retain = message.retain
            m.props = mote_mqtt_props_t(ptr: propsLen > 0 ? UnsafePointer(base + topic.count + message.payload.count) : nil,
                                        len: propsLen)
            cMessage = m
        }
        return cMessage
    }

    func freeStorage() {
        storage?.deallocate()
        storage = nil
    }
}

/// A subscription filter as sent to the broker; several Swift subscriptions may share it.
final class FilterGroup {
    let filter: String
    var qos: MQTTQoS
    var options: UInt8
    /// v5 subscription identifier: incoming messages name the subscriptions that matched.
    let subscriptionID: UInt32
    var subscribers: [Int: AsyncThrowingStream<MQTTMessage, any Error>.Continuation] = [:]
    var waiters: [CheckedContinuation<Void, any Error>] = []
    var acknowledged = false
    var needsSubscribe = true

    init(filter: String, qos: MQTTQoS, options: UInt8, subscriptionID: UInt32) {
        self.filter = filter
        self.qos = qos
        self.options = options
        self.subscriptionID = subscriptionID
    }
}

extension String {
    /// Run `body` over the string's UTF-8 bytes without copying the string first (native and
    /// small strings are read in place; only bridged ones are copied).
    @inline(__always)
    func withBytes<R>(_ body: (mote_bytes_t) throws -> R) rethrows -> R {
        if let r = try utf8.withContiguousStorageIfAvailable({ try body(mote_bytes_t(ptr: $0.baseAddress, len: $0.count)) }) {
            return r
        }
        let copy = Array(utf8)
        return try copy.withUnsafeBufferPointer { try body(mote_bytes_t(ptr: $0.baseAddress, len: $0.count)) }
    }
}
