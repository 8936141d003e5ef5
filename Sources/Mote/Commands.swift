import CMote
import Synchronization

/// Work handed from any task to a connection's owner thread.
enum Command: Sendable {
    case start(CheckedContinuation<MQTTSessionInfo, any Error>)
    case subscribe(SubscribeRequest)
    case unsubscribe(subscriberID: Int)
    case disconnect(CheckedContinuation<Void, Never>?)
}

/// A publish waiting for its outcome, queued on its own (not as a `Command`): two words,
/// so queueing and taking it copies no enum payload. The continuation is resumed exactly
/// once: by the owner thread with `Engine.shared` locked (`Engine.deliverAnswers`), or by
/// `Engine.sendPublish` on the caller's own thread when no owner runs. Unsafe rather than
/// checked: a checked one costs an allocation, its release and generic copies per message.
struct PublishRequest: Sendable {
    let message: OutgoingPublish
    let continuation: UnsafeContinuation<Void, any Error>
}

/// A batch of publishes handed over in one lock hold (`MQTTClient.publish(_:qos:)`): the
/// caller suspends once, and is resumed once, when every message has its outcome.
/// `messages` is written by the caller before the hand-off and only read afterwards;
/// `results`, `remaining` and the continuation are touched by one thread at a time: the
/// owner (in `Engine.deliverAnswers`, with `Engine.shared` locked), or the caller before
/// the hand-off, or instead of it when no owner runs, and again after its resume (ordered
/// after the owner's writes by `Engine.afterAnswer`).
final class PublishBatch: @unchecked Sendable {
    /// nil where the caller already failed the message (invalid topic): not sent.
    let messages: [OutgoingPublish?]
    var results: [Result<Void, MQTTError>]
    /// Messages sent whose outcome is not recorded yet.
    var remaining: Int
    var continuation: UnsafeContinuation<Void, Never>?
    /// Set by the caller's cancellation handler (any thread); the owner withdraws what it
    /// has not sent and answers the rest with `MQTTError.cancelled`.
    let cancelled = Atomic<Bool>(false)

    init(messages: [OutgoingPublish?], results: [Result<Void, MQTTError>]) {
        self.messages = messages
        self.results = results
        self.remaining = messages.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
    }

    /// Record one message's outcome; the caller is resumed with the last one.
    func record(_ index: Int, _ error: (any Error)?) {
        if let error {
            results[index] = .failure(error as? MQTTError ?? (error is CancellationError ? .cancelled : .closed))
        } else {
            results[index] = .success(())
        }
        remaining -= 1
        if remaining == 0, let c = continuation {
            continuation = nil
            c.resume()
        }
    }

    /// Fail every message sent (no owner thread took the batch).
    func failAll(_ error: MQTTError) {
        for i in messages.indices where messages[i] != nil { record(i, error) }
    }
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
    /// Set by the waiting caller's cancellation handler (any thread), read by the owner.
    let cancelled = Atomic<Bool>(false)

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
/// live in one malloc'd block that stays put until the C core is done with it. Only the
/// owner thread touches its fields, one at a time: they skip the dynamic exclusivity check.
final class PendingPublish {
    let message: OutgoingPublish
    /// The caller waiting for the outcome (nil for QoS 0 hand-offs). Answered once: the
    /// outcome is settled first and delivered later, in a batch, by `Engine.deliverAnswers`.
    private let continuation: UnsafeContinuation<Void, any Error>?
    @exclusivity(unchecked) private var settled = false
    @exclusivity(unchecked) private var failure: (any Error)?
    let seq: UInt64
    /// The batch this publish belongs to (its outcome goes there instead of a continuation).
    private let batch: PublishBatch?
    private let batchIndex: Int
    /// Packet id while the C client holds it in flight (0 otherwise).
    @exclusivity(unchecked) var packetID: UInt16 = 0
    /// When it was handed to the C client (or resent by a reconnect), while its caller
    /// waits with an ack timeout; nil otherwise (also once it timed out).
    @exclusivity(unchecked) var sentAt: ContinuousClock.Instant?
    @exclusivity(unchecked) private(set) var storage: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private(set) var cMessage = mote_mqtt_publish_t()

    init(_ message: OutgoingPublish, continuation: UnsafeContinuation<Void, any Error>?, seq: UInt64) {
        self.message = message
        self.continuation = continuation
        self.seq = seq
        self.batch = nil
        self.batchIndex = 0
    }

    init(_ message: OutgoingPublish, batch: PublishBatch, index: Int, seq: UInt64) {
        self.message = message
        self.continuation = nil
        self.seq = seq
        self.batch = batch
        self.batchIndex = index
    }

    deinit { freeStorage() }

    /// The waiting caller (or its batch) was cancelled.
    var isCancelled: Bool {
        message.cancelled.load(ordering: .relaxed) || (batch?.cancelled.load(ordering: .relaxed) ?? false)
    }

    /// The waiting caller has its outcome (or will have it with the next answers).
    var isSettled: Bool { settled }

    /// Record the outcome for the waiting caller. Returns true the first time when a caller
    /// waits: `deliver` must then follow (later outcomes are ignored).
    func settle(_ error: (any Error)?) -> Bool {
        guard !settled, continuation != nil || batch != nil else { return false }
        settled = true
        failure = error
        return true
    }

    /// Resume the caller with the settled outcome (once, after `settle` returned true).
    func deliver() {
        if let batch {
            batch.record(batchIndex, failure)
            failure = nil
            return
        }
        guard let continuation else { return }
        if let failure {
            self.failure = nil
            continuation.resume(throwing: failure)
        } else {
            continuation.resume()
        }
    }

    /// Lay out topic, payload and (v5) properties once; the returned C message points into
    /// them (the struct itself is only read during the publish call).
    func prepare(version: MQTTProtocolVersion) throws(MQTTError) -> mote_mqtt_publish_t {
        if storage == nil {
            let topicCount = message.topic.utf8.count
            let properties = version == .v5 ? message.properties : nil
            let propsCap = properties.map { PropertyCodec.sizeBound($0) } ?? 0
            let total = topicCount + message.payload.count + propsCap
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(total, 1), alignment: 8)
            let base = raw.assumingMemoryBound(to: UInt8.self)
            // Copied straight from the string's UTF-8 (no intermediate array).
            message.topic.withBytes { t in
                if let a = t.ptr { base.update(from: a, count: t.len) }
            }
            message.payload.withUnsafeBufferPointer { p in
                if let a = p.baseAddress { (base + topicCount).update(from: a, count: p.count) }
            }
            var propsLen = 0
            if let properties, propsCap > 0 {
                do {
                    propsLen = try PropertyCodec.encode(properties, into: base + topicCount + message.payload.count,
                                                        cap: propsCap)
                } catch {
                    raw.deallocate()
                    throw error
                }
            }
            storage = raw
            var m = mote_mqtt_publish_t()
            m.topic = mote_bytes_t(ptr: base, len: topicCount)
            m.payload = mote_bytes_t(ptr: base + topicCount, len: message.payload.count)
            m.qos = message.qos.rawValue
            m.retain = message.retain
            m.props = mote_mqtt_props_t(ptr: propsLen > 0 ? UnsafePointer(base + topicCount + message.payload.count) : nil,
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
    /// The QoS the group's next SUBSCRIBE asks for: the highest a subscriber waits for, or
    /// `granted` when none waits for more; lowered to the highest still wanted when
    /// subscribers leave (`lowerToWanted`).
    var qos: MQTTQoS
    var options: UInt8
    /// v5 subscription identifier: incoming messages name the subscriptions that matched.
    let subscriptionID: UInt32
    var subscribers: [Int: AsyncThrowingStream<MQTTMessage, any Error>.Continuation] = [:]
    /// The QoS each subscriber asked for, by the same ids as `subscribers`.
    var wanted: [Int: MQTTQoS] = [:]
    /// Subscribers whose subscribe() waits for a SUBACK to a SUBSCRIBE asking for their QoS.
    var waiters: [SubscribeWaiter] = []
    /// The highest QoS a SUBACK granted (the subscribers not waiting asked for at most this);
    /// nil until one did.
    var granted: MQTTQoS?
    /// The broker holds the subscription at `granted`: acknowledged in this connection, or
    /// kept by a resumed session.
    var held = false
    /// The QoS each SUBSCRIBE sent on this connection and not yet answered asked for.
    var outstanding: [MQTTQoS] = []
    var needsSubscribe = true

    init(filter: String, qos: MQTTQoS, options: UInt8, subscriptionID: UInt32) {
        self.filter = filter
        self.qos = qos
        self.options = options
        self.subscriptionID = subscriptionID
    }

    /// Nothing to ask the broker for: it holds the subscription at the QoS wanted.
    var settled: Bool { held && granted.map { $0 >= qos } == true }

    /// A subscriber left: the next SUBSCRIBE asks for no more than the subscribers left (and
    /// the waiters) want. The broker may hold more meanwhile; that is harmless, so no
    /// SUBSCRIBE goes out just to lower it (a new session asks for the lower QoS).
    func lowerToWanted() {
        guard let top = (Array(wanted.values) + waiters.map(\.qos)).max(), top < qos else { return }
        qos = top
    }
}

/// A subscribe() call waiting for the SUBACK that grants its QoS.
struct SubscribeWaiter {
    let subscriberID: Int
    let qos: MQTTQoS
    let ack: CheckedContinuation<Void, any Error>
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
