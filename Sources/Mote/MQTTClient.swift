import CMote
import Synchronization
import Logging

/// An MQTT 3.1.1 / 5 client over the Mote C core.
///
/// Any number of tasks may publish and subscribe concurrently. The C client behind it is
/// driven by one dedicated thread per connection; calls hand it work through a queue and
/// wake it, and results come back through continuations.
///
/// ```swift
/// var configuration = MQTTConfiguration(host: "127.0.0.1", port: 1883, clientID: "sensor-1", protocolVersion: .v5)
/// configuration.keepAlive = .seconds(30)
/// let client = MQTTClient(configuration: configuration)
/// try await client.connect()
/// let subscription = try await client.subscribe(to: "demo/#", qos: .atLeastOnce)
/// try await client.publish(to: "demo/hello", payload: Array("hi".utf8), qos: .atLeastOnce)
/// for try await message in subscription {
///     print(message.topic, String(decoding: message.payload, as: UTF8.self))
///     break
/// }
/// try await client.disconnect()
/// ```
///
/// Every error thrown is an ``MQTTError``.
public final class MQTTClient: Sendable {
    public let configuration: MQTTConfiguration
    public let logger: Logger
    let engine: Engine

    /// - Parameters:
    ///   - configuration: broker address, identity, TLS, reconnect and buffering settings.
    ///   - logger: where connection news go; at `.trace` level every packet the C core
    ///     sends or receives is logged too.
    public init(configuration: MQTTConfiguration, logger: Logger = Logger(label: "mote.mqtt")) {
        self.configuration = configuration
        self.logger = logger
        self.engine = Engine(configuration: configuration, logger: logger)
    }

    deinit {
        engine.send(.disconnect(nil))
    }

    /// Connect to the broker (TCP or TLS, then MQTT CONNECT/CONNACK). After a successful
    /// connect, a lost connection is re-established automatically as the reconnect policy says.
    ///
    /// May be called again after ``disconnect()``. With an empty
    /// ``MQTTConfiguration/clientID``, a v5 client whose session outlives the connection
    /// connects under the identifier the broker assigned before while that session may still
    /// exist (its expiry interval plus 1.5 keep-alive intervals since the connection ended), so
    /// that the broker resumes it; later it asks for a new identifier.
    /// - Returns: what the broker said in CONNACK.
    /// - Throws: ``MQTTError`` (transport, TLS, refused with the broker's reason code);
    ///   ``MQTTError/invalidArgument(_:)`` for settings no broker can accept, such as an empty
    ///   client ID with a persistent MQTT 3.1.1 session. A reconnect that fails that way ends
    ///   the client (``MQTTConnectionEvent/closed``) instead of trying again.
    @discardableResult
    public func connect() async throws -> MQTTSessionInfo {
        try await withCheckedThrowingContinuation { c in
            engine.send(.start(c))
        }
    }

    /// Publish a message.
    ///
    /// QoS 0 returns once the message is handed to the connection (queued for sending, like
    /// the C client's QoS 0 publish): it does not wait for the bytes to be written, and
    /// without properties it does not suspend unless the bounded hand-off queue is full
    /// (then it waits for room). QoS 1 and 2 return when the broker acknowledged it (PUBACK,
    /// or PUBCOMP). While reconnecting, the message waits in the offline queue (or fails, as
    /// ``MQTTConfiguration/offlinePublishing`` says).
    /// Cancelling the calling task while it waits throws `CancellationError`: a message
    /// not sent yet is withdrawn; one already sent stays in the session (it may still reach
    /// the broker, and is resent after a reconnect). A QoS 0 message handed over without
    /// waiting is not withdrawn.
    /// A message accepted while connected but not yet sent when the connection drops waits
    /// for the reconnect, or, with ``MQTTOfflinePublishing/failFast``, fails with
    /// ``MQTTError/notConnected``.
    /// A QoS 1/2 message sent and not acknowledged within ``MQTTConfiguration/ackTimeout``
    /// throws ``MQTTError/timeout``; like a cancelled one, it stays in the session.
    /// - Throws: ``MQTTError/publishRejected(reasonCode:reason:)`` with the broker's v5
    ///   reason code, ``MQTTError/invalidArgument(_:)`` for a bad topic, and others.
    #if compiler(>=6.2)
    // Runs on the caller's executor (no hop on entry): the fast path only takes a lock.
    @inlinable
    nonisolated(nonsending)
    public func publish(to topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                        properties: MQTTPublishProperties? = nil) async throws {
        // Inlined into the caller so that the common QoS 0 case is one synchronous call:
        // calling an async function costs a task-frame allocation and an executor hop
        // each time, several times the work of handing the message over.
        if qos == .atMostOnce {
            if try handOffQoS0(topic: topic, payload: payload, retain: retain, properties: properties) { return }
        }
        try await publishWaiting(to: topic, payload: payload, qos: qos, retain: retain, properties: properties)
    }
    #else
    @inlinable
    public func publish(to topic: String, payload: [UInt8], qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                        properties: MQTTPublishProperties? = nil) async throws {
        // Inlined into the caller so that the common QoS 0 case is one synchronous call:
        // calling an async function costs a task-frame allocation and an executor hop
        // each time, several times the work of handing the message over.
        if qos == .atMostOnce {
            if try handOffQoS0(topic: topic, payload: payload, retain: retain, properties: properties) { return }
        }
        try await publishWaiting(to: topic, payload: payload, qos: qos, retain: retain, properties: properties)
    }
    #endif

    /// QoS 0 fast path: queue the message if it has no properties, the client is connected
    /// and the hand-off queue has room. The topic is validated unless it is the one validated
    /// last (publishers mostly repeat a topic). Returns false when the caller must take the
    /// waiting path.
    @usableFromInline
    func handOffQoS0(topic: String, payload: [UInt8], retain: Bool, properties: MQTTPublishProperties?) throws -> Bool {
        // A pattern, not `==`: comparing with nil through Equatable copies the properties.
        if case .some = properties { return false }
        switch engine.trySendQoS0(topic: topic, payload: payload, retain: retain, validated: false) {
        case .sent:
            return true
        case .unvalidated:
            try Self.validateTopic(topic)
            return engine.trySendQoS0(topic: topic, payload: payload, retain: retain, validated: true) == .sent
        case .full, .unavailable:
            return false
        }
    }

    /// Publish, suspending as needed: QoS 0 when the hand-off queue is full or the client
    /// is not connected, QoS 1/2 until acknowledged, anything with properties.
    @usableFromInline
    func publishWaiting(to topic: String, payload: [UInt8], qos: MQTTQoS, retain: Bool,
                        properties: MQTTPublishProperties?) async throws {
        if qos == .atMostOnce && properties?.isEmpty != false {
            // QoS 0 has no outcome to wait for: hand the message over without a
            // continuation (bounded; past the bound the caller waits for room).
            try Self.validateTopic(topic)
            handOff: while true {
                switch engine.trySendQoS0(topic: topic, payload: payload, retain: retain, validated: true) {
                case .sent: return
                case .full: await engine.waitForHandOffSpace()
                case .unavailable, .unvalidated: break handOff
                }
            }
        }
        let message = OutgoingPublish(topic: topic, payload: payload, qos: qos, retain: retain, properties: properties)
        defer { engine.afterAnswer() }
        let engine = self.engine
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
                engine.sendPublish(PublishRequest(message: message, continuation: c))
            }
        } onCancel: {
            message.cancelled.store(true, ordering: .sequentiallyConsistent)
            engine.cancelPublish()
        }
    }

    /// Publish many messages with one suspension: the batch is handed to the connection in
    /// one step, and the call returns once every message has its outcome.
    ///
    /// Use it to keep many QoS 1 or 2 messages in flight from one task: publishing them one
    /// by one suspends and resumes the task once per message, a batch does it once. The
    /// messages are sent in order, behind whatever this client queued before, and each is
    /// treated exactly like a single ``publish(to:payload:qos:retain:properties:)``: at
    /// most ``MQTTConfiguration/maximumInflight`` are in flight at once (the rest are sent
    /// as acknowledgements free room), they are resent after a reconnect, and while
    /// reconnecting they wait in the offline queue (or fail, as
    /// ``MQTTConfiguration/offlinePublishing`` says). One message failing does not stop the
    /// others.
    ///
    /// ```swift
    /// let batch = (0..<100).map { MQTTOutgoingMessage(topic: "sensor/\($0)", payload: reading($0)) }
    /// for (i, result) in await client.publish(batch, qos: .atLeastOnce).enumerated() {
    ///     if case .failure(let error) = result { print("message \(i): \(error)") }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - messages: the messages, sent in this order.
    ///   - qos: the QoS of every message. With QoS 0 a message counts as done once the
    ///     connection has handed it to the socket.
    /// - Returns: one result per message, in the order given: `.success` when the broker
    ///   acknowledged it (PUBACK or PUBCOMP; QoS 0: handed over), otherwise the
    ///   ``MQTTError`` it failed with: ``MQTTError/invalidArgument(_:)`` for a bad topic
    ///   (that message is not sent), ``MQTTError/publishRejected(reasonCode:reason:)`` with
    ///   the broker's v5 reason code, ``MQTTError/timeout`` when a message sent got no
    ///   acknowledgement within ``MQTTConfiguration/ackTimeout`` (it stays in the session),
    ///   ``MQTTError/notConnected``, ``MQTTError/queueFull``, ``MQTTError/closed``, and others.
    ///
    /// Cancelling the calling task ends the wait: messages not sent yet are withdrawn and
    /// answered with ``MQTTError/cancelled``; messages already sent stay in the session (they
    /// may still reach the broker, and are resent after a reconnect) and are answered with
    /// ``MQTTError/cancelled`` unless their acknowledgement came first.
    public func publish(_ messages: [MQTTOutgoingMessage], qos: MQTTQoS) async -> [Result<Void, MQTTError>] {
        guard !messages.isEmpty else { return [] }
        var outgoing: [OutgoingPublish?] = []
        outgoing.reserveCapacity(messages.count)
        var results = [Result<Void, MQTTError>](repeating: .success(()), count: messages.count)
        var lastValid: String?
        for (i, m) in messages.enumerated() {
            // Batches mostly repeat a topic: it is checked again only when it changes.
            if m.topic != lastValid {
                do {
                    try Self.validateTopic(m.topic)
                    lastValid = m.topic
                } catch {
                    results[i] = .failure(error as? MQTTError ?? .invalidArgument(m.topic))
                    outgoing.append(nil)
                    continue
                }
            }
            outgoing.append(OutgoingPublish(topic: m.topic, payload: m.payload, qos: qos, retain: m.retain,
                                            properties: m.properties))
        }
        let batch = PublishBatch(messages: outgoing, results: results)
        guard batch.remaining > 0 else { return batch.results }
        let engine = self.engine
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
                batch.continuation = c
                engine.sendPublishBatch(batch)
            }
        } onCancel: {
            batch.cancelled.store(true, ordering: .sequentiallyConsistent)
            engine.cancelPublish()
        }
        engine.afterAnswer()
        return batch.results
    }

    static func validateTopic(_ topic: String) throws {
        let r = topic.withBytes { mote_mqtt_topic_validate($0) }
        if r != MOTE_OK { throw MQTTError.invalidArgument("topic \"\(topic)\": \(MoteCoreError(code: r.rawValue))") }
    }

    /// Publish a UTF-8 string payload.
    public func publish(to topic: String, string: String, qos: MQTTQoS = .atMostOnce, retain: Bool = false,
                        properties: MQTTPublishProperties? = nil) async throws {
        try await publish(to: topic, payload: Array(string.utf8), qos: qos, retain: retain, properties: properties)
    }

    /// Subscribe to a topic filter. Returns once the broker granted it (SUBACK).
    ///
    /// The returned sequence yields the messages matching `filter`. Ending the `for` loop,
    /// cancelling its task or calling ``MQTTSubscription/cancel()`` unsubscribes (the
    /// UNSUBSCRIBE is sent when no other subscription of this client uses the same filter).
    /// Overlapping subscriptions each receive the messages that match them (in v5 routed by
    /// subscription identifier, so each gets one copy per message).
    ///
    /// Subscriptions to the same filter share one subscription at the broker, at the highest
    /// QoS asked for. Asking for a higher QoS than the filter has sends another SUBSCRIBE, and
    /// this call returns when the broker granted that one. If the broker refuses the higher
    /// QoS, this call throws ``MQTTError/subscriptionRejected(filter:reasonCode:reason:)`` and
    /// the other subscriptions to the filter go on at the QoS granted before. When a
    /// subscription ends, the broker's subscription is left at the QoS it has, but the filter's
    /// next SUBSCRIBE (after a reconnect to a new session) asks only for the highest QoS the
    /// remaining subscriptions asked for.
    ///
    /// When the SUBACK does not come within ``MQTTConfiguration/ackTimeout`` of the SUBSCRIBE
    /// this call waits for, it throws ``MQTTError/timeout`` the way a refusal would fail it (the
    /// filter is unsubscribed when no other subscription uses it; a late SUBACK is ignored).
    /// - Parameters:
    ///   - filter: topic filter; `+` and `#` wildcards and `$share/GROUP/...` are allowed.
    ///   - qos: the highest QoS the broker may use for this subscription's messages.
    ///   - bufferingPolicy: how many undelivered messages this subscription keeps.
    ///   - noLocal: v5: do not receive this client's own publishes.
    ///   - retainAsPublished: v5: keep the retain flag as the publisher set it.
    public func subscribe(to filter: String, qos: MQTTQoS = .atMostOnce,
                          bufferingPolicy: MQTTBufferingPolicy = .default,
                          noLocal: Bool = false, retainAsPublished: Bool = false) async throws -> MQTTSubscription {
        var f = filter
        let valid = f.withUTF8 { mote_mqtt_filter_validate(mote_bytes_t(ptr: $0.baseAddress, len: $0.count)) }
        if valid != MOTE_OK {
            throw MQTTError.invalidArgument("filter \"\(filter)\": \(MoteCoreError(code: valid.rawValue))")
        }
        let id = engine.nextSubscriberID()
        let policy: AsyncThrowingStream<MQTTMessage, any Error>.Continuation.BufferingPolicy
        switch bufferingPolicy {
        case .dropOldest(let n): policy = .bufferingNewest(max(n, 1))
        case .dropNewest(let n): policy = .bufferingOldest(max(n, 1))
        }
        let (stream, sink) = AsyncThrowingStream<MQTTMessage, any Error>.makeStream(bufferingPolicy: policy)
        let token = SubscriptionToken(engine: engine, subscriberID: id)
        sink.onTermination = { [weak engine] _ in engine?.send(.unsubscribe(subscriberID: id)) }
        var options: UInt8 = 0
        if noLocal { options |= UInt8(MOTE_SUB_NO_LOCAL) }
        if retainAsPublished { options |= UInt8(MOTE_SUB_RETAIN_AS_PUBLISHED) }
        do {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                engine.send(.subscribe(SubscribeRequest(subscriberID: id, filter: filter, qos: qos, options: options,
                                                        sink: sink, ack: c)))
            }
        } catch {
            sink.finish()
            throw error
        }
        return MQTTSubscription(filter: filter, stream: stream, token: token)
    }

    /// Send DISCONNECT, close the connection and stop reconnecting. Subscriptions end
    /// (their loops finish normally); waiting publishes fail with ``MQTTError/closed``.
    /// A persistent session keeps unacknowledged messages for the next ``connect()`` (which
    /// asks for it under the identifier a v5 broker assigned, when the configured one is empty).
    public func disconnect() async throws {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            engine.send(.disconnect(c))
        }
    }

    /// Connection state changes (connected, disconnected, reconnecting, closed) from now on.
    /// Each call returns a new sequence; it keeps the newest 64 undelivered events.
    public var events: AsyncStream<MQTTConnectionEvent> {
        let (stream, sink) = AsyncStream<MQTTConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let id = engine.addEventSink(sink)
        sink.onTermination = { [weak engine] _ in engine?.removeEventSink(id) }
        return stream
    }

    /// True while connected to the broker.
    public var isConnected: Bool { engine.shared.withLock { $0.connected } }

    /// The topic filters this client has subscribed at the broker, including ones whose
    /// UNSUBSCRIBE is not yet acknowledged.
    public var subscribedFilters: [String] { engine.shared.withLock { $0.activeFilters } }
}
