import CMote
import CMotePOSIX
import CMoteShims
import Foundation
import Logging


/// One client's connection machinery. The C client is not thread-safe, so all C state and
/// the fields marked "owner" are touched only by the connection's owner thread (started by
/// `start`, ended when the client disconnects or gives up). Other threads talk to it only
/// through `shared` (a Mutex-protected command queue) and the wake-up descriptor.
///
/// `@unchecked Sendable` is safe because of that confinement: the owner fields are never
/// read or written outside the owner thread, and everything else is immutable or in `shared`.
final class Engine: @unchecked Sendable {
    struct Shared {
        var commands: [Command] = []
        /// Publishes that wait for an outcome (QoS 1/2, or QoS 0 off the fast path), in
        /// arrival order; taken before `commands`.
        var publishes: [PublishRequest] = []
        /// Publish batches, in arrival order; taken with `publishes`, handled after them.
        var batches: [PublishBatch] = []
        var ownerWaiting = false
        /// A waiting publisher was cancelled: the owner looks for cancelled publishes.
        var cancelRequested = false
        var running = false
        var connected = false
        var sinks: [Int: AsyncStream<MQTTConnectionEvent>.Continuation] = [:]
        var nextID = 1
        var activeFilters: [String] = []
        /// QoS 0 messages handed over without a continuation and not yet sent: queued
        /// commands plus the owner's backlog. Bounds the fast path's memory.
        var qos0: [QoS0Message] = []
        var ownerBacklog = 0
        var handOffWaiters: [CheckedContinuation<Void, Never>] = []
        /// The last topic a QoS 0 publisher validated (not checked again while it repeats).
        /// nil until one was (an empty String would match an empty, invalid topic).
        var validatedTopic: String?
    }

    /// Most QoS 0 messages waiting for the owner thread before publishers must wait too.
    static let qos0HandOffLimit = 8192

    enum State {
        case connected
        case waitingToReconnect(deadline: ContinuousClock.Instant, attempt: Int)
        case stopped
    }

    let configuration: MQTTConfiguration
    let logger: Logger
    let version: MQTTProtocolVersion
    let shared = Locked(Shared())
    let wakeFD: Int32

    // C state, allocated once at stable addresses, freed in deinit.
    let client: UnsafeMutablePointer<mote_mqtt_client_t>
    let cConfig: UnsafeMutablePointer<mote_mqtt_client_config_t>
    let rxBuf: UnsafeMutablePointer<UInt8>
    let txBuf: UnsafeMutablePointer<UInt8>
    let inflightTable: UnsafeMutablePointer<mote_mqtt_inflight_t>
    let qos2IDs: UnsafeMutablePointer<UInt16>
    let rxAliases: UnsafeMutablePointer<mote_bytes_t>
    let rxAliasStore: UnsafeMutablePointer<UInt8>
    static let rxAliasCount = 16
    static let rxAliasSlot = 256
    let link: Link

    // Owner-thread state. The fields touched per message skip the dynamic exclusivity check
    // (`@exclusivity(unchecked)`): only the owner thread touches them, and no access to one
    // of them spans a call that could reach it again (the C callbacks change only the
    // in-flight table, `answers` and the subscription state, never while those are borrowed).
    @exclusivity(unchecked) var state: State = .stopped {
        didSet {
            if case .connected = state { isConnected = true } else { isConnected = false }
        }
    }
    /// `state` is `.connected`: a plain flag for the per-message checks (matching the enum
    /// copies its clock-instant payload through generic value witnesses).
    @exclusivity(unchecked) var isConnected = false
    @exclusivity(unchecked) var pending: [PendingPublish] = []
    @exclusivity(unchecked) var pendingHead = 0
    /// QoS 1/2 publishes the C client holds, by its in-flight slot: a packet id always
    /// lives in slot (id - 1) % count of the C table (mqtt_session.c), so the ack finds its
    /// publish by index, with no hashing. Behind a pointer: no exclusivity checks.
    let inflightPublishes: UnsafeMutablePointer<PendingPublish?>
    let inflightCapacity: Int
    /// Publishes whose outcome is settled and whose callers are not resumed yet: resumed
    /// together by `deliverAnswers` the next time the owner takes the lock.
    @exclusivity(unchecked) var answers: [PendingPublish] = []
    /// Publishes refused before they were queued, answered the same way.
    @exclusivity(unchecked) var refusals: [(UnsafeContinuation<Void, any Error>, MQTTError)] = []
    /// Double buffer for `Shared.publishes` (keeps its capacity between batches).
    @exclusivity(unchecked) var publishSpare: [PublishRequest] = []
    @exclusivity(unchecked) var qos0Written: [PendingPublish] = []
    var droppedDuringConnect: [PendingPublish] = []
    @exclusivity(unchecked) var inConnect = false
    @exclusivity(unchecked) var publishSeq: UInt64 = 0
    var groups: [String: FilterGroup] = [:]
    var groupsByID: [UInt32: FilterGroup] = [:]
    var subscriberGroup: [Int: String] = [:]
    var nextSubscriptionID: UInt32 = 1
    /// SUBSCRIBEs awaiting their SUBACK: each group with the QoS it asked for.
    var subacks: [UInt16: [(group: FilterGroup, qos: MQTTQoS)]] = [:]
    var unsubacks: [UInt16: String] = [:]
    var unsubscribeLater: Set<String> = []
    /// The C client refused a SUBSCRIBE or UNSUBSCRIBE while its table of requests awaiting
    /// their acks was full (MOTE_MQTT_MAX_PENDING_SUBS); an ack since frees a slot, so the
    /// loop pumps again at once instead of waiting for other work.
    var subscribeBlocked = false
    var subscribeRoom = false
    var assembling: (message: MQTTMessage, total: Int)?
    /// The identifier a v5 broker assigned to the empty configured one, while the session kept
    /// under it may still exist (see `clientIDForConnect`). Kept across owner threads, so that
    /// connect() after disconnect() asks for that session too.
    var assignedIdentity: AssignedIdentity?
    var serverDisconnect: (code: UInt8, reason: String)?
    var droppedMessages = 0
    var disconnectAcks: [CheckedContinuation<Void, Never>] = []
    @exclusivity(unchecked) var qos0Spare: [QoS0Message] = []
    /// QoS 0 hand-offs taken from `shared` that the C client could not take yet (its output
    /// was full), sent before `pending` (they arrived before anything in it: hand-offs go
    /// here only while `pending` has nothing unsent). Plain values, no object per message.
    @exclusivity(unchecked) var quick: [QoS0Message] = []
    @exclusivity(unchecked) var quickHead = 0
    /// In-flight count when the C client last refused a publish for lack of room (its table
    /// or the broker's receive maximum); pumping again is worth it only once acks free slots.
    @exclusivity(unchecked) var blockedAtInflight: UInt16?
    /// `Shared.cancelRequested` was taken: withdraw cancelled publishes after this turn's work.
    var cancelScanNeeded = false
    /// `configuration.ackTimeout` (nil: requests wait for their acks indefinitely).
    let ackTimeout: Duration?
    /// When the loop next looks for requests unanswered for `ackTimeout` (see
    /// EngineTimeouts.swift); nil while none is sent and unanswered.
    var nextAckCheck: ContinuousClock.Instant?
    /// When each SUBSCRIBE in `subacks` was sent (kept only with an ack timeout).
    var subscribeSentAt: [UInt16: ContinuousClock.Instant] = [:]
    /// SUBSCRIBEs that timed out, until their SUBACK comes (the C client still expects it):
    /// a late grant only records what the broker holds.
    var lateSubacks: [UInt16: [(group: FilterGroup, qos: MQTTQoS)]] = [:]
    /// When each UNSUBSCRIBE in `unsubacks` was sent (kept only with an ack timeout); one
    /// unanswered for `ackTimeout` leaves it (and stays in `unsubacks` until its UNSUBACK).
    var unsubscribeSentAt: [UInt16: ContinuousClock.Instant] = [:]

    init(configuration: MQTTConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.version = configuration.protocolVersion
        self.ackTimeout = configuration.ackTimeout
        wakeFD = cmote_waker_open()
        precondition(wakeFD >= 0, "eventfd failed")

        let rxCap = max(configuration.receiveBufferSize, 1024)
        let txCap = max(configuration.sendBufferSize, 1024)
        // The C client keeps a packet id free for every pending SUBSCRIBE/UNSUBSCRIBE.
        let inflightCount = max(1, min(configuration.maximumInflight, 65534 - Int(MOTE_MQTT_MAX_PENDING_SUBS)))
        client = .allocate(capacity: 1)
        client.initialize(to: mote_mqtt_client_t())
        cConfig = .allocate(capacity: 1)
        cConfig.initialize(to: mote_mqtt_client_config_t())
        rxBuf = .allocate(capacity: rxCap)
        txBuf = .allocate(capacity: txCap)
        inflightTable = .allocate(capacity: inflightCount)
        inflightTable.initialize(repeating: mote_mqtt_inflight_t(), count: inflightCount)
        inflightCapacity = inflightCount
        inflightPublishes = .allocate(capacity: inflightCount)
        inflightPublishes.initialize(repeating: nil, count: inflightCount)
        qos2IDs = .allocate(capacity: 64)
        qos2IDs.initialize(repeating: 0, count: 64)
        rxAliases = .allocate(capacity: Self.rxAliasCount)
        rxAliases.initialize(repeating: mote_bytes_t(), count: Self.rxAliasCount)
        rxAliasStore = .allocate(capacity: Self.rxAliasCount * Self.rxAliasSlot)
        link = Link(tls: configuration.tls, localAddress: configuration.localAddress)

        var cfg = mote_mqtt_client_config_t()
        cfg.transport = UnsafePointer(link.transport)
        cfg.clock = mote_posix_clock_ms
        cfg.rx_buf = rxBuf
        cfg.rx_cap = rxCap
        cfg.tx_buf = txBuf
        cfg.tx_cap = txCap
        cfg.inflight = inflightTable
        cfg.inflight_count = UInt16(inflightCount)
        cfg.qos2_rx_ids = qos2IDs
        cfg.qos2_rx_count = 64
        cfg.rx_topic_aliases = rxAliases
        cfg.rx_topic_alias_count = UInt16(Self.rxAliasCount)
        cfg.rx_alias_store = rxAliasStore
        cfg.rx_alias_slot_size = UInt16(Self.rxAliasSlot)
        cfg.reject_oversize = false
        cfg.on_event = { user, evt in
            guard let user, let evt else { return }
            Unmanaged<Engine>.fromOpaque(user).takeUnretainedValue().handle(evt)
        }
        if logger.logLevel <= .trace {
            cfg.on_trace = { user, dir, packet, len in
                guard let user, let packet else { return }
                Unmanaged<Engine>.fromOpaque(user).takeUnretainedValue().trace(dir, packet, len)
            }
        }
        cConfig.pointee = cfg
        let r = mote_mqtt_init(client, cConfig)
        precondition(r == MOTE_OK, "mote_mqtt_init: \(MoteCoreError(code: r.rawValue))")
    }

    deinit {
        // The owner thread holds a reference while it runs, so it has ended by now.
        pending.removeAll()
        inflightPublishes.deinitialize(count: inflightCapacity)
        inflightPublishes.deallocate()
        qos0Written.removeAll()
        quick.removeAll()
        client.deallocate()
        cConfig.deallocate()
        rxBuf.deallocate()
        txBuf.deallocate()
        inflightTable.deallocate()
        qos2IDs.deallocate()
        rxAliases.deallocate()
        rxAliasStore.deallocate()
        cmote_waker_close(wakeFD)
        // Finish outside the lock: a sink's onTermination may take it.
        let sinks = shared.withLock { s in
            defer { s.sinks.removeAll() }
            return Array(s.sinks.values)
        }
        for sink in sinks { sink.finish() }
    }

    // MARK: Any thread

    /// Queue a command and wake the owner if it sleeps. Starts the owner thread for `.start`.
    func send(_ command: Command) {
        var startThread = false
        var rejected: Command?
        shared.withLock { s in
            if case .start = command {
                if s.running { rejected = command; return }
                s.running = true
                startThread = true
            } else if !s.running {
                rejected = command
                return
            }
            s.commands.append(command)
            wakeOwner(&s)
        }
        if let rejected { reject(rejected) }
        if startThread {
            let thread = Thread { [self] in self.run() }
            thread.name = "mote-mqtt"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Queue a publish that waits for its outcome and wake the owner if it sleeps; without
    /// an owner thread it fails with `notConnected`.
    func sendPublish(_ request: PublishRequest) {
        let accepted = shared.withLock { s -> Bool in
            guard s.running else { return false }
            s.publishes.append(request)
            // Cancelled before it got here: the handler's request may have been taken already.
            if request.message.cancelled.load(ordering: .sequentiallyConsistent) { s.cancelRequested = true }
            wakeOwner(&s)
            return true
        }
        if !accepted { request.continuation.resume(throwing: MQTTError.notConnected) }
    }

    /// With `shared` locked, after queueing work: signal the owner if it sleeps (once).
    @inline(__always)
    private func wakeOwner(_ s: inout Shared) {
        if s.ownerWaiting {
            s.ownerWaiting = false
            cmote_waker_signal(wakeFD)
        }
    }

    /// A waiting publisher's task was cancelled (its message or batch is marked): have the
    /// owner answer it. Safe from any thread, before or after the publish was queued.
    func cancelPublish() {
        shared.withLock { s in
            s.cancelRequested = true
            wakeOwner(&s)
        }
    }

    /// Queue a batch of publishes in one lock hold and wake the owner if it sleeps; without
    /// an owner thread every message fails with `notConnected` (and the caller is resumed).
    func sendPublishBatch(_ batch: PublishBatch) {
        let accepted = shared.withLock { s -> Bool in
            guard s.running else { return false }
            s.batches.append(batch)
            if batch.cancelled.load(ordering: .sequentiallyConsistent) { s.cancelRequested = true }
            wakeOwner(&s)
            return true
        }
        if !accepted { batch.failAll(.notConnected) }
    }

    enum HandOff {
        case sent
        /// The hand-off queue is full: wait with `waitForHandOffSpace`, then try again.
        case full
        /// Not connected: take the waiting path (offline queue or failure).
        case unavailable
        /// The topic is not the one validated last: validate it and try again.
        case unvalidated
    }

    /// QoS 0 fast path: queue the message without suspending the caller, when connected and
    /// below the hand-off limit.
    /// `validated`: the caller checked the topic; otherwise only the topic checked last is
    /// taken (`.unvalidated` asks the caller to check it).
    func trySendQoS0(topic: String, payload: [UInt8], retain: Bool, validated: Bool) -> HandOff {
        shared.withLock { s in
            guard s.running, s.connected else { return .unavailable }
            guard validated || topic == s.validatedTopic else { return .unvalidated }
            guard s.qos0.count + s.ownerBacklog < Self.qos0HandOffLimit else { return .full }
            if validated { s.validatedTopic = topic }
            s.qos0.append(QoS0Message(topic: topic, payload: payload, retain: retain))
            wakeOwner(&s)
            return .sent
        }
    }

    /// Suspend until the owner thread has taken enough QoS 0 messages (or has stopped):
    /// one suspension per thousands of messages instead of one per message.
    func waitForHandOffSpace() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let waiting = shared.withLock { s -> Bool in
                guard s.running, s.connected, s.qos0.count + s.ownerBacklog >= Self.qos0HandOffLimit else { return false }
                s.handOffWaiters.append(c)
                return true
            }
            if !waiting { c.resume() }
        }
    }

    /// A command that arrived while no owner thread runs.
    func reject(_ command: Command) {
        switch command {
        case .start(let c): c.resume(throwing: MQTTError.invalidArgument("already connected"))
        case .subscribe(let r):
            r.sink.finish(throwing: MQTTError.notConnected)
            r.ack.resume(throwing: MQTTError.notConnected)
        case .unsubscribe: break
        case .disconnect(let c): c?.resume()
        }
    }

    func nextSubscriberID() -> Int {
        shared.withLock { s in
            defer { s.nextID += 1 }
            return s.nextID
        }
    }

    func addEventSink(_ sink: AsyncStream<MQTTConnectionEvent>.Continuation) -> Int {
        shared.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.sinks[id] = sink
            return id
        }
    }

    func removeEventSink(_ id: Int) {
        _ = shared.withLock { $0.sinks.removeValue(forKey: id) }
    }

    func emit(_ event: MQTTConnectionEvent) {
        shared.withLock { s in
            if case .connected = event { s.connected = true }
            if case .disconnected = event { s.connected = false }
            if case .closed = event { s.connected = false }
            if !s.connected {
                // QoS 0 publishers waiting for room take the offline path instead.
                for w in s.handOffWaiters { w.resume() }
                s.handOffWaiters.removeAll()
            }
            for sink in s.sinks.values { sink.yield(event) }
        }
    }

    // MARK: Owner thread

    func run() {
        // The C core calls back with this pointer; one retain for the thread's lifetime,
        // balanced by the single release below.
        let context = Unmanaged.passRetained(self)
        cConfig.pointee.user = context.toOpaque()
        // `user` is left set: a later owner thread sets it again before any C call, and
        // clearing it here could race with that thread.
        defer { context.release() }
        var startContinuation: CheckedContinuation<MQTTSessionInfo, any Error>?
        shared.withLock { s in
            if let i = s.commands.firstIndex(where: { if case .start = $0 { return true } else { return false } }),
               case .start(let c) = s.commands.remove(at: i) {
                startContinuation = c
            }
        }
        do {
            let info = try establish(cleanStart: configuration.cleanStart)
            // `isConnected` is true once connect() returns.
            emit(.connected(info))
            startContinuation?.resume(returning: info)
        } catch {
            logger.debug("connect failed: \(error)")
            shutdown(error: nil, emitClosed: false)
            finishThread()
            // Answered once the thread has let go of the C state, so that a connect() right
            // after this one failed can start a new owner thread.
            startContinuation?.resume(throwing: error)
            return
        }
        loop()
        finishThread()
    }

    /// The last thing the owner thread does: from here on commands are rejected and a new
    /// `connect()` may start another owner thread (which then owns the C state).
    func finishThread() {
        let acks = disconnectAcks
        disconnectAcks.removeAll()
        let leftover = shared.withLock { s -> [Command] in
            deliverAnswers()
            s.running = false
            s.connected = false
            s.qos0.removeAll()
            let waiters = s.handOffWaiters
            s.handOffWaiters.removeAll()
            for w in waiters { w.resume() }
            let c = s.commands
            s.commands.removeAll()
            for p in s.publishes { p.continuation.resume(throwing: MQTTError.notConnected) }
            s.publishes.removeAll()
            for b in s.batches { b.failAll(.notConnected) }
            s.batches.removeAll()
            return c
        }
        // No owner state may be touched from here: another owner thread may already run.
        for c in leftover { reject(c) }
        for c in acks { c.resume() }
    }

    func loop() {
        while true {
            var publishes = publishSpare
            publishSpare = []
            var batches: [PublishBatch] = []
            let commands = takeCommands(&publishes, &batches)
            for request in publishes { handle(request) }
            for batch in batches { handle(batch) }
            publishes.removeAll(keepingCapacity: true)
            publishSpare = publishes
            for command in commands { handle(command) }
            if cancelScanNeeded { withdrawCancelled() }
            switch state {
            case .stopped:
                return
            case .connected:
                pump()
                guard isConnected else { continue }
                let r = mote_mqtt_process(client, 0)
                if r != MOTE_OK && r != MOTE_ERR_NEED_MORE {
                    connectionLost(error(from: r))
                    continue
                }
                if !qos0Written.isEmpty && mote_mqtt_tx_pending(client) == 0 { qos0Written.removeAll() }
                if nextAckCheck != nil { checkAckTimeouts() }
                if canPumpMore() { continue }
                let wantWrite = mote_mqtt_tx_pending(client) > 0
                // Waiting only for acks (the last of a batch): see `acknowledgeQuickly`.
                if !wantWrite && pendingHead == pending.count && mote_mqtt_inflight_count(client) > 0 {
                    link.acknowledgeQuickly()
                }
                // Wake up for the next ack deadline too (the tick alone would be late).
                let ackWait = millisecondsToAckCheck()
                waitForWork { timeout in
                    link.wait(wantWrite: wantWrite, wakeFD: wakeFD, timeoutMs: min(timeout, ackWait))
                }
            case .waitingToReconnect(let deadline, let attempt):
                let now = ContinuousClock.now
                if now >= deadline {
                    reconnect(attempt: attempt)
                } else {
                    let ms = UInt32(clamping: max(1, Int64(RetryMath.milliseconds(deadline - now))))
                    waitForWork { timeout in _ = cmote_wait(-1, 0, wakeFD, min(timeout, ms)) }
                }
            }
        }
    }

    /// Sleep until the wake-up descriptor fires, I/O is ready or the tick passes, unless
    /// commands arrived since they were last taken. QoS 0 publishers waiting for hand-off
    /// room are let go first when the backlog has shrunk (they would otherwise wait for
    /// the tick: nothing else wakes the owner while they wait).
    func waitForWork(_ wait: (UInt32) -> Void) {
        let backlog = ownerBacklog
        var resume: [CheckedContinuation<Void, Never>] = []
        let idle = shared.withLock { s -> Bool in
            deliverAnswers()
            s.ownerBacklog = backlog
            if !s.handOffWaiters.isEmpty && backlog < Self.qos0HandOffLimit / 2 {
                swap(&resume, &s.handOffWaiters)
                return false
            }
            if !s.commands.isEmpty || !s.qos0.isEmpty || !s.publishes.isEmpty || !s.batches.isEmpty || s.cancelRequested {
                return false
            }
            s.ownerWaiting = true
            return true
        }
        for c in resume { c.resume() }
        guard idle else { return }
        wait(250)
        shared.withLock { $0.ownerWaiting = false }
        cmote_waker_drain(wakeFD)
    }

    /// Take queued work. QoS 0 hand-offs come first: a task that published QoS 0 and then
    /// QoS 1 had its QoS 0 message queued before the QoS 1 publish. Waiting publishes are
    /// swapped into `publishes` (an empty buffer) and handled before the commands.
    func takeCommands(_ publishes: inout [PublishRequest], _ batches: inout [PublishBatch]) -> [Command] {
        let backlog = ownerBacklog
        // Double-buffered: publishers append into a buffer that keeps its capacity.
        var qos0 = qos0Spare
        qos0Spare = []
        var resume: [CheckedContinuation<Void, Never>] = []
        let commands = shared.withLock { s in
            deliverAnswers()
            let c = s.commands
            s.commands.removeAll(keepingCapacity: true)
            swap(&qos0, &s.qos0)
            swap(&publishes, &s.publishes)
            if !s.batches.isEmpty { swap(&batches, &s.batches) }
            if s.cancelRequested {
                s.cancelRequested = false
                cancelScanNeeded = true
            }
            // The batch just taken counts until it is sent.
            s.ownerBacklog = backlog + qos0.count
            if !s.handOffWaiters.isEmpty && s.ownerBacklog < Self.qos0HandOffLimit / 2 {
                swap(&resume, &s.handOffWaiters)
            }
            return c
        }
        for c in resume { c.resume() }
        if !qos0.isEmpty {
            takeQoS0(&qos0)
            qos0.removeAll(keepingCapacity: true)
        }
        qos0Spare = qos0
        return commands
    }

    /// Messages taken from `shared` and not yet handed to the C client.
    var ownerBacklog: Int { pending.count - pendingHead + quick.count - quickHead }

    /// Move a batch of QoS 0 hand-offs to where they are sent from, keeping arrival order.
    func takeQoS0(_ batch: inout [QoS0Message]) {
        guard isConnected, pendingHead == pending.count else {
            // Behind queued publishes (or offline): they wait in `pending`, in order.
            for i in batch.indices { queueQoS0(batch[i]) }
            return
        }
        if quickHead == quick.count {
            // Nothing waiting: take the batch's buffer as is (the old one becomes the spare).
            quick.removeAll(keepingCapacity: true)
            quickHead = 0
            swap(&quick, &batch)
        } else {
            quick.append(contentsOf: batch)
        }
    }

    func queueQoS0(_ message: QoS0Message) {
        if isConnected {
            enqueue(PendingPublish(message.outgoing, continuation: nil, seq: nextSeq()))
        } else if case .queue(let limit) = configuration.offlinePublishing, pending.count - pendingHead < limit {
            enqueue(PendingPublish(message.outgoing, continuation: nil, seq: nextSeq()))
        } else {
            logger.debug("QoS 0 message to \(message.topic) dropped: not connected")
        }
    }
}
