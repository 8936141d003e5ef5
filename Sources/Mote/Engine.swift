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
    private let wakeFD: Int32

    // C state, allocated once at stable addresses, freed in deinit.
    private let client: UnsafeMutablePointer<mote_mqtt_client_t>
    private let cConfig: UnsafeMutablePointer<mote_mqtt_client_config_t>
    private let rxBuf: UnsafeMutablePointer<UInt8>
    private let txBuf: UnsafeMutablePointer<UInt8>
    private let inflightTable: UnsafeMutablePointer<mote_mqtt_inflight_t>
    private let qos2IDs: UnsafeMutablePointer<UInt16>
    private let rxAliases: UnsafeMutablePointer<mote_bytes_t>
    private let rxAliasStore: UnsafeMutablePointer<UInt8>
    private static let rxAliasCount = 16
    private static let rxAliasSlot = 256
    private let link: Link

    // Owner-thread state. The fields touched per message skip the dynamic exclusivity check
    // (`@exclusivity(unchecked)`): only the owner thread touches them, and no access to one
    // of them spans a call that could reach it again (the C callbacks change only the
    // in-flight table, `answers` and the subscription state, never while those are borrowed).
    @exclusivity(unchecked) private var state: State = .stopped {
        didSet {
            if case .connected = state { isConnected = true } else { isConnected = false }
        }
    }
    /// `state` is `.connected`: a plain flag for the per-message checks (matching the enum
    /// copies its clock-instant payload through generic value witnesses).
    @exclusivity(unchecked) private var isConnected = false
    @exclusivity(unchecked) private var pending: [PendingPublish] = []
    @exclusivity(unchecked) private var pendingHead = 0
    /// QoS 1/2 publishes the C client holds, by its in-flight slot: a packet id always
    /// lives in slot (id - 1) % count of the C table (mqtt_session.c), so the ack finds its
    /// publish by index, with no hashing. Behind a pointer: no exclusivity checks.
    private let inflightPublishes: UnsafeMutablePointer<PendingPublish?>
    private let inflightCapacity: Int
    /// Publishes whose outcome is settled and whose callers are not resumed yet: resumed
    /// together by `deliverAnswers` the next time the owner takes the lock.
    @exclusivity(unchecked) private var answers: [PendingPublish] = []
    /// Publishes refused before they were queued, answered the same way.
    @exclusivity(unchecked) private var refusals: [(UnsafeContinuation<Void, any Error>, MQTTError)] = []
    /// Double buffer for `Shared.publishes` (keeps its capacity between batches).
    @exclusivity(unchecked) private var publishSpare: [PublishRequest] = []
    @exclusivity(unchecked) private var qos0Written: [PendingPublish] = []
    private var droppedDuringConnect: [PendingPublish] = []
    @exclusivity(unchecked) private var inConnect = false
    @exclusivity(unchecked) private var publishSeq: UInt64 = 0
    private var groups: [String: FilterGroup] = [:]
    private var groupsByID: [UInt32: FilterGroup] = [:]
    private var subscriberGroup: [Int: String] = [:]
    private var nextSubscriptionID: UInt32 = 1
    private var subacks: [UInt16: [FilterGroup]] = [:]
    private var unsubacks: [UInt16: String] = [:]
    private var unsubscribeLater: Set<String> = []
    private var assembling: (message: MQTTMessage, total: Int)?
    private var serverDisconnect: (code: UInt8, reason: String)?
    private var droppedMessages = 0
    private var disconnectAcks: [CheckedContinuation<Void, Never>] = []
    @exclusivity(unchecked) private var qos0Spare: [QoS0Message] = []
    /// QoS 0 hand-offs taken from `shared` that the C client could not take yet (its output
    /// was full), sent before `pending` (they arrived before anything in it: hand-offs go
    /// here only while `pending` has nothing unsent). Plain values, no object per message.
    @exclusivity(unchecked) private var quick: [QoS0Message] = []
    @exclusivity(unchecked) private var quickHead = 0
    /// In-flight count when the C client last refused a publish for lack of room (its table
    /// or the broker's receive maximum); pumping again is worth it only once acks free slots.
    @exclusivity(unchecked) private var blockedAtInflight: UInt16?
    /// `Shared.cancelRequested` was taken: withdraw cancelled publishes after this turn's work.
    private var cancelScanNeeded = false

    init(configuration: MQTTConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.version = configuration.protocolVersion
        wakeFD = cmote_waker_open()
        precondition(wakeFD >= 0, "eventfd failed")

        let rxCap = max(configuration.receiveBufferSize, 1024)
        let txCap = max(configuration.sendBufferSize, 1024)
        let inflightCount = max(1, min(configuration.maximumInflight, 65535))
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
        link = Link(tls: configuration.tls)

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
            if s.ownerWaiting {
                s.ownerWaiting = false
                cmote_waker_signal(wakeFD)
            }
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
            if s.ownerWaiting {
                s.ownerWaiting = false
                cmote_waker_signal(wakeFD)
            }
            return true
        }
        if !accepted { request.continuation.resume(throwing: MQTTError.notConnected) }
    }

    /// A waiting publisher's task was cancelled (its message or batch is marked): have the
    /// owner answer it. Safe from any thread, before or after the publish was queued.
    func cancelPublish() {
        shared.withLock { s in
            s.cancelRequested = true
            if s.ownerWaiting {
                s.ownerWaiting = false
                cmote_waker_signal(wakeFD)
            }
        }
    }

    /// Queue a batch of publishes in one lock hold and wake the owner if it sleeps; without
    /// an owner thread every message fails with `notConnected` (and the caller is resumed).
    func sendPublishBatch(_ batch: PublishBatch) {
        let accepted = shared.withLock { s -> Bool in
            guard s.running else { return false }
            s.batches.append(batch)
            if batch.cancelled.load(ordering: .sequentiallyConsistent) { s.cancelRequested = true }
            if s.ownerWaiting {
                s.ownerWaiting = false
                cmote_waker_signal(wakeFD)
            }
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
            if s.ownerWaiting {
                s.ownerWaiting = false
                cmote_waker_signal(wakeFD)
            }
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
    private func reject(_ command: Command) {
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

    private func emit(_ event: MQTTConnectionEvent) {
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

    private func run() {
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
            startContinuation?.resume(throwing: error)
            shutdown(error: nil, emitClosed: false)
            finishThread()
            return
        }
        loop()
        finishThread()
    }

    /// The last thing the owner thread does: from here on commands are rejected and a new
    /// `connect()` may start another owner thread (which then owns the C state).
    private func finishThread() {
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

    private func loop() {
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
                if canPumpMore() { continue }
                let wantWrite = mote_mqtt_tx_pending(client) > 0
                // Waiting only for acks (the last of a batch): see `acknowledgeQuickly`.
                if !wantWrite && pendingHead == pending.count && mote_mqtt_inflight_count(client) > 0 {
                    link.acknowledgeQuickly()
                }
                waitForWork { timeout in link.wait(wantWrite: wantWrite, wakeFD: wakeFD, timeoutMs: timeout) }
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
    private func waitForWork(_ wait: (UInt32) -> Void) {
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
    private func takeCommands(_ publishes: inout [PublishRequest], _ batches: inout [PublishBatch]) -> [Command] {
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
    private var ownerBacklog: Int { pending.count - pendingHead + quick.count - quickHead }

    /// Move a batch of QoS 0 hand-offs to where they are sent from, keeping arrival order.
    private func takeQoS0(_ batch: inout [QoS0Message]) {
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

    private func queueQoS0(_ message: QoS0Message) {
        if isConnected {
            enqueue(PendingPublish(message.outgoing, continuation: nil, seq: nextSeq()))
        } else if case .queue(let limit) = configuration.offlinePublishing, pending.count - pendingHead < limit {
            enqueue(PendingPublish(message.outgoing, continuation: nil, seq: nextSeq()))
        } else {
            logger.debug("QoS 0 message to \(message.topic) dropped: not connected")
        }
    }

    /// Hand the waiting QoS 0 messages to the C client until its output is full. Small ones
    /// are copied into tx_buf straight from the Swift values (the C client copies packets
    /// that fit a quarter of an empty tx_buf); larger ones, which it may write from caller
    /// memory, go through `PendingPublish` storage that outlives the write.
    private func sendQuick() {
        guard isConnected else { return }
        let directLimit = cConfig.pointee.tx_cap / 4 - 16
        var failure = MOTE_OK
        let start = quickHead
        // One access to `quick` for the whole run (not one per message); nothing in the
        // loop touches `quick` itself, and a lost connection is handled after it.
        quickHead = quick.withUnsafeBufferPointer { q -> Int in
            var i = start
            while i < q.count {
                let r = publishQuick(q[i], directLimit: directLimit)
                if r == MOTE_ERR_NEED_MORE { break }
                if r != MOTE_OK {
                    if Self.isConnectionError(r) {
                        failure = r
                        break
                    }
                    logger.debug("QoS 0 message to \(q[i].topic) dropped: \(MoteCoreError(code: r.rawValue))")
                }
                i += 1
            }
            return i
        }
        if failure != MOTE_OK {
            connectionLost(error(from: failure))
            return
        }
        if quickHead == quick.count {
            quick.removeAll(keepingCapacity: true)
            quickHead = 0
        }
    }

    @inline(__always)
    private func publishQuick(_ message: QoS0Message, directLimit: Int) -> mote_err_t {
        guard message.payload.count + message.topic.utf8.count < directLimit else { return publishLarge(message) }
        return message.topic.withBytes { t in
            message.payload.withUnsafeBufferPointer { p in
                var m = mote_mqtt_publish_t()
                m.topic = t
                m.payload = mote_bytes_t(ptr: p.baseAddress, len: p.count)
                m.retain = message.retain
                return mote_mqtt_publish(client, &m, nil)
            }
        }
    }

    /// A QoS 0 message too large to be copied into tx_buf: publish it from storage kept until
    /// the C client has written it.
    @inline(never)
    private func publishLarge(_ message: QoS0Message) -> mote_err_t {
        let p = PendingPublish(message.outgoing, continuation: nil, seq: nextSeq())
        var m: mote_mqtt_publish_t
        do {
            m = try p.prepare(version: version)
        } catch {
            return MOTE_ERR_BAD_ARG
        }
        let r = mote_mqtt_publish(client, &m, nil)
        if r == MOTE_OK && mote_mqtt_tx_pending(client) > 0 { qos0Written.append(p) }
        return r
    }

    private func handle(_ command: Command) {
        switch command {
        case .start(let c):
            c.resume(throwing: MQTTError.invalidArgument("already connected"))
        case .subscribe(let request):
            if case .stopped = state {
                request.sink.finish(throwing: MQTTError.closed)
                request.ack.resume(throwing: MQTTError.closed)
            } else {
                addSubscriber(request)
            }
        case .unsubscribe(let id):
            removeSubscriber(id)
        case .disconnect(let c):
            if case .stopped = state {
                if let c { disconnectAcks.append(c) }
                return
            }
            if isConnected {
                drainOutput()
                _ = mote_mqtt_disconnect(client, 0, mote_mqtt_props_t())
            }
            shutdown(error: nil, emitClosed: true)
            // Answered once the thread has let go of the C state, so that a connect() right
            // after disconnect() returns can start a new owner thread.
            if let c { disconnectAcks.append(c) }
        }
    }

    private func handle(_ request: PublishRequest) {
        let c = request.continuation
        if isConnected {
            enqueue(PendingPublish(request.message, continuation: c, seq: nextSeq()))
        } else if case .queue(let limit) = configuration.offlinePublishing, pending.count - pendingHead < limit {
            enqueue(PendingPublish(request.message, continuation: c, seq: nextSeq()))
        } else if case .stopped = state {
            refusals.append((c, .closed))
        } else {
            refusals.append((c, configuration.offlinePublishing == .failFast ? .notConnected : .queueFull))
        }
    }

    /// A batch goes through the same queue as single publishes, message by message in
    /// order (so the in-flight window, offline queue and resends treat them alike); only
    /// the outcomes are gathered in the batch instead of resuming a caller each.
    private func handle(_ batch: PublishBatch) {
        for i in batch.messages.indices {
            guard let message = batch.messages[i] else { continue }
            let p = PendingPublish(message, batch: batch, index: i, seq: nextSeq())
            if isConnected {
                enqueue(p)
            } else if case .queue(let limit) = configuration.offlinePublishing, pending.count - pendingHead < limit {
                enqueue(p)
            } else if case .stopped = state {
                fail(p, MQTTError.closed)
            } else {
                fail(p, configuration.offlinePublishing == .failFast ? MQTTError.notConnected : MQTTError.queueFull)
            }
        }
    }

    /// Before DISCONNECT: write what callers already handed over (QoS 0 messages count as
    /// sent once handed over), for at most the connect timeout.
    private func drainOutput() {
        let deadline = ContinuousClock.now + configuration.connectTimeout
        while ContinuousClock.now < deadline {
            pump()
            guard isConnected else { return }
            let r = mote_mqtt_process(client, 0)
            if r != MOTE_OK && r != MOTE_ERR_NEED_MORE { return }
            let backlog = quickHead < quick.count || pending[pendingHead...].contains { $0.message.qos == .atMostOnce }
            if !backlog && mote_mqtt_tx_pending(client) == 0 { return }
            link.wait(wantWrite: true, wakeFD: -1, timeoutMs: 20)
        }
    }

    /// Answer cancelled publishers: a publish not handed to the C client yet is withdrawn
    /// (never sent); one in flight stays in the session (it may still be delivered and is
    /// resent after a reconnect) and only its caller stops waiting.
    private func withdrawCancelled() {
        cancelScanNeeded = false
        if pending[pendingHead...].contains(where: { $0.isCancelled }) {
            var kept: [PendingPublish] = []
            kept.reserveCapacity(pending.count - pendingHead)
            for p in pending[pendingHead...] {
                if p.isCancelled { fail(p, CancellationError()) } else { kept.append(p) }
            }
            pending = kept
            pendingHead = 0
        }
        for i in 0..<inflightCapacity {
            if let p = inflightPublishes[i], p.isCancelled { fail(p, CancellationError()) }
        }
    }

    private func succeed(_ p: PendingPublish) {
        if p.settle(nil) { answers.append(p) }
    }

    private func fail(_ p: PendingPublish, _ error: any Error) {
        if p.settle(error) { answers.append(p) }
    }

    /// Resume the callers of settled publishes. Called by the owner with `shared` locked
    /// (it takes the lock every loop turn, before sleeping and when it ends), and callers
    /// take the lock once resumed (`afterAnswer`): an answer may come before its caller has
    /// suspended, and the runtime then hands the result over with atomics the thread
    /// sanitizer cannot see; the lock makes the order visible to it. Batching also keeps
    /// resumes off the path that reads acks.
    private func deliverAnswers() {
        if !refusals.isEmpty {
            for (c, error) in refusals { c.resume(throwing: error) }
            refusals.removeAll()
        }
        guard !answers.isEmpty else { return }
        for p in answers { p.deliver() }
        answers.removeAll(keepingCapacity: true)
    }

    /// See `deliverAnswers`: a resumed publisher orders itself after its resume.
    func afterAnswer() {
        shared.withLock { _ in }
    }

    private func nextSeq() -> UInt64 {
        publishSeq += 1
        return publishSeq
    }

    private func enqueue(_ p: PendingPublish) {
        if pendingHead > 64 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        pending.append(p)
    }

    private func canPumpMore() -> Bool {
        guard pendingHead < pending.count || quickHead < quick.count, mote_mqtt_tx_pending(client) == 0 else { return false }
        guard let blocked = blockedAtInflight else { return true }
        return mote_mqtt_inflight_count(client) < blocked
    }

    /// Hand queued publishes and subscriptions to the C client while it has room.
    private func pump() {
        blockedAtInflight = nil
        for group in groups.values where group.needsSubscribe {
            if !sendSubscribe(group) { break }
        }
        if !unsubscribeLater.isEmpty {
            for filter in unsubscribeLater where sendUnsubscribe(filter) { unsubscribeLater.remove(filter) }
        }
        if quickHead < quick.count {
            // Earlier hand-offs go first; `pending` waits until they are all written.
            sendQuick()
            if quickHead < quick.count { return }
        }
        while pendingHead < pending.count {
            guard isConnected else { return }
            let p = pending[pendingHead]
            let msg: mote_mqtt_publish_t
            do {
                msg = try p.prepare(version: version)
            } catch {
                pendingHead += 1
                fail(p, error)
                continue
            }
            var m = msg
            var packetID: UInt16 = 0
            let r = mote_mqtt_publish(client, &m, &packetID)
            if r == MOTE_OK {
                pendingHead += 1
                if p.message.qos == .atMostOnce {
                    succeed(p)
                    if mote_mqtt_tx_pending(client) > 0 { qos0Written.append(p) }
                } else {
                    p.packetID = packetID
                    inflightPublishes[inflightSlot(packetID)] = p
                }
            } else if r == MOTE_ERR_NO_SPACE || r == MOTE_ERR_RECEIVE_MAXIMUM {
                blockedAtInflight = mote_mqtt_inflight_count(client)
                return
            } else if r == MOTE_ERR_NEED_MORE {
                return
            } else if Self.isConnectionError(r) {
                connectionLost(error(from: r))
                return
            } else {
                pendingHead += 1
                fail(p, MQTTError.fromCore(r.rawValue, detail: p.message.topic))
            }
        }
        if pendingHead == pending.count && pendingHead > 0 {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
    }

    @inline(__always)
    private func inflightSlot(_ packetID: UInt16) -> Int {
        (Int(packetID) &- 1) % inflightCapacity
    }

    private static func isConnectionError(_ r: mote_err_t) -> Bool {
        let v = r.rawValue
        return v == MOTE_ERR_NOT_CONNECTED.rawValue || v == MOTE_ERR_KEEPALIVE_TIMEOUT.rawValue
            || v == MOTE_ERR_SERVER_DISCONNECT.rawValue || v == MOTE_ERR_PROTOCOL.rawValue
            || (v <= MOTE_ERR_TRANSPORT.rawValue && v >= MOTE_ERR_TLS_BAD_CERT.rawValue)
            || v == MOTE_ERR_TIMEOUT.rawValue
    }

    private func error(from r: mote_err_t) -> MQTTError {
        if r == MOTE_ERR_SERVER_DISCONNECT, let d = serverDisconnect {
            return .serverDisconnected(reasonCode: d.code, reason: d.reason)
        }
        return MQTTError.fromCore(r.rawValue)
    }

    // MARK: Connecting

    private func establish(cleanStart: Bool) throws(MQTTError) -> MQTTSessionInfo {
        guard let port = UInt16(exactly: configuration.port), port > 0 else {
            throw .invalidArgument("port \(configuration.port)")
        }
        let timeout = UInt32(clamping: RetryMath.milliseconds(configuration.connectTimeout))
        try link.open(host: configuration.host, port: port, timeoutMs: timeout)
        var info = mote_mqtt_session_info_t()
        serverDisconnect = nil
        inConnect = true
        droppedDuringConnect.removeAll()
        let r = ConnectOptions.withOptions(configuration, cleanStart: cleanStart) { opts in
            mote_mqtt_connect(client, opts, timeout, &info)
        }
        inConnect = false
        if r != MOTE_OK {
            mote_mqtt_reset_connection(client)
            link.close()
            if r == MOTE_ERR_CONNACK_REFUSED {
                let code = info.reason_code
                let text = version == .v5 ? MQTTError.reasonText(code) : String(cString: mote_mqtt_v311_connack_string(code))
                throw .connectionRefused(reasonCode: code, reason: text)
            }
            throw MQTTError.fromCore(r.rawValue, detail: "MQTT connect to \(configuration.host):\(port)")
        }
        link.connected()
        let session = MQTTSessionInfo(
            sessionPresent: info.session_present,
            assignedClientID: info.assigned_client_id.len > 0 ? PropertyCodec.string(info.assigned_client_id) : nil,
            keepAliveSeconds: info.keep_alive_s,
            receiveMaximum: info.receive_maximum,
            maximumQoS: MQTTQoS(rawValue: min(info.maximum_qos, 2)) ?? .exactlyOnce,
            retainAvailable: info.retain_available)
        // Messages the broker forgot with the old session go out again, in their first order.
        if !droppedDuringConnect.isEmpty {
            let again = droppedDuringConnect.sorted { $0.seq < $1.seq }
            droppedDuringConnect.removeAll()
            for p in again { p.freeStorage() }
            pending.replaceSubrange(0..<pendingHead, with: [])
            pendingHead = 0
            pending.insert(contentsOf: again, at: 0)
        }
        for group in groups.values where !session.sessionPresent || !group.acknowledged {
            group.needsSubscribe = true
        }
        state = .connected
        logger.info("connected to \(configuration.host):\(port) (session present: \(session.sessionPresent))")
        return session
    }

    private func connectionLost(_ error: MQTTError) {
        guard isConnected else { return }
        logger.warning("connection lost: \(error)")
        mote_mqtt_reset_connection(client)
        link.close()
        qos0Written.removeAll()
        subacks.removeAll()
        for filter in unsubacks.values { unsubscribeLater.insert(filter) }
        unsubacks.removeAll()
        for group in groups.values where !group.acknowledged { group.needsSubscribe = true }
        assembling = nil
        if configuration.offlinePublishing == .failFast {
            // Accepted while connected but not sent: fail now rather than wait for a
            // reconnect (in-flight ones stay in the session and are resent).
            for p in pending[pendingHead...] { fail(p, MQTTError.notConnected) }
            pending.removeAll()
            pendingHead = 0
            quick.removeAll()
            quickHead = 0
        }
        emit(.disconnected(error))
        if configuration.reconnect.isEnabled {
            scheduleReconnect(attempt: 0)
        } else {
            shutdown(error: error, emitClosed: true)
        }
    }

    private func scheduleReconnect(attempt: Int) {
        if let max = configuration.reconnect.maximumAttempts, attempt >= max {
            shutdown(error: .closed, emitClosed: true)
            return
        }
        let delay = configuration.reconnect.delay(forAttempt: attempt)
        emit(.reconnecting(attempt: attempt, delay: delay))
        state = .waitingToReconnect(deadline: ContinuousClock.now + delay, attempt: attempt)
    }

    private func reconnect(attempt: Int) {
        do {
            // A persistent session is resumed; a clean one starts again (and is rebuilt).
            let info = try establish(cleanStart: configuration.cleanStart)
            emit(.connected(info))
        } catch {
            // Refusals count as failed attempts too: brokers refuse while they restart.
            logger.debug("reconnect attempt \(attempt) failed: \(error)")
            scheduleReconnect(attempt: attempt + 1)
        }
    }

    /// Stop the owner loop: fail what waits, end subscriptions, close the link.
    private func shutdown(error: MQTTError?, emitClosed: Bool) {
        state = .stopped
        mote_mqtt_reset_connection(client)
        link.close()
        let failure = error ?? .closed
        for i in pendingHead..<pending.count {
            fail(pending[i], failure)
        }
        pending.removeAll()
        pendingHead = 0
        // The C session keeps its in-flight records (resent on a later connect with a present
        // session), so their memory stays; only the waiting callers are released.
        for i in 0..<inflightCapacity {
            guard let p = inflightPublishes[i] else { continue }
            fail(p, failure)
        }
        qos0Written.removeAll()
        quick.removeAll()
        quickHead = 0
        for group in groups.values {
            for w in group.waiters { w.resume(throwing: failure) }
            for sink in group.subscribers.values {
                if let error { sink.finish(throwing: error) } else { sink.finish() }
            }
        }
        groups.removeAll()
        groupsByID.removeAll()
        subscriberGroup.removeAll()
        subacks.removeAll()
        unsubacks.removeAll()
        unsubscribeLater.removeAll()
        assembling = nil
        shared.withLock { s in
            s.connected = false
            s.activeFilters = []
        }
        if emitClosed { emit(.closed) }
    }

    // MARK: Subscriptions

    private func addSubscriber(_ r: SubscribeRequest) {
        let group: FilterGroup
        if let g = groups[r.filter] {
            group = g
            if r.qos > g.qos {
                g.qos = r.qos
                g.acknowledged = false
                g.needsSubscribe = true
            }
        } else {
            if !isConnected && configuration.offlinePublishing == .failFast {
                r.sink.finish(throwing: MQTTError.notConnected)
                r.ack.resume(throwing: MQTTError.notConnected)
                return
            }
            group = FilterGroup(filter: r.filter, qos: r.qos, options: r.options, subscriptionID: nextSubscriptionID)
            nextSubscriptionID = nextSubscriptionID >= 268_435_455 ? 1 : nextSubscriptionID + 1
            groups[r.filter] = group
            groupsByID[group.subscriptionID] = group
        }
        group.subscribers[r.subscriberID] = r.sink
        subscriberGroup[r.subscriberID] = r.filter
        unsubscribeLater.remove(r.filter)
        if group.acknowledged && !group.needsSubscribe {
            r.ack.resume()
        } else {
            group.waiters.append(r.ack)
        }
        publishFilters()
    }

    private func removeSubscriber(_ id: Int) {
        guard let filter = subscriberGroup.removeValue(forKey: id), let group = groups[filter] else { return }
        group.subscribers.removeValue(forKey: id)
        guard group.subscribers.isEmpty else { return }
        groups.removeValue(forKey: filter)
        groupsByID.removeValue(forKey: group.subscriptionID)
        for w in group.waiters { w.resume(throwing: MQTTError.closed) }
        group.waiters.removeAll()
        if isConnected, sendUnsubscribe(filter) {
        } else {
            unsubscribeLater.insert(filter)
        }
        publishFilters()
    }

    /// Filters the broker has (or is being asked to drop), for observers and tests.
    private func publishFilters() {
        var filters = Set(groups.keys)
        filters.formUnion(unsubacks.values)
        filters.formUnion(unsubscribeLater)
        let list = filters.sorted()
        shared.withLock { $0.activeFilters = list }
    }

    private func sendSubscribe(_ group: FilterGroup) -> Bool {
        guard isConnected else { return false }
        let filter = Array(group.filter.utf8)
        var propsBuf = [UInt8](repeating: 0, count: 16)
        var propsLen = 0
        if version == .v5 {
            propsLen = (try? PropertyCodec.encode(MQTTPublishProperties(), extra: [(PropertyCodec.subscriptionID, group.subscriptionID)],
                                                  into: &propsBuf, cap: propsBuf.count)) ?? 0
        }
        var packetID: UInt16 = 0
        let r = filter.withUnsafeBufferPointer { fp in
            propsBuf.withUnsafeBufferPointer { pp in
                var sub = mote_mqtt_subscription_t(filter: mote_bytes_t(ptr: fp.baseAddress, len: fp.count),
                                                   options: group.qos.rawValue | group.options)
                return mote_mqtt_subscribe(client, &sub, 1, mote_mqtt_props_t(ptr: pp.baseAddress, len: propsLen), &packetID)
            }
        }
        if r == MOTE_OK {
            group.needsSubscribe = false
            subacks[packetID, default: []].append(group)
            return true
        }
        if r == MOTE_ERR_NO_SPACE || r == MOTE_ERR_NEED_MORE { return false }
        if Self.isConnectionError(r) {
            connectionLost(error(from: r))
            return false
        }
        // Invalid filter: fail this subscription group.
        let err = MQTTError.fromCore(r.rawValue, detail: group.filter)
        failGroup(group, err)
        return true
    }

    private func failGroup(_ group: FilterGroup, _ err: MQTTError) {
        groups.removeValue(forKey: group.filter)
        groupsByID.removeValue(forKey: group.subscriptionID)
        for w in group.waiters { w.resume(throwing: err) }
        group.waiters.removeAll()
        for (id, sink) in group.subscribers {
            sink.finish(throwing: err)
            subscriberGroup.removeValue(forKey: id)
        }
        group.subscribers.removeAll()
        publishFilters()
    }

    private func sendUnsubscribe(_ filter: String) -> Bool {
        guard isConnected else { return false }
        let bytes = Array(filter.utf8)
        var packetID: UInt16 = 0
        let r = bytes.withUnsafeBufferPointer { fp in
            var f = mote_bytes_t(ptr: fp.baseAddress, len: fp.count)
            return mote_mqtt_unsubscribe(client, &f, 1, mote_mqtt_props_t(), &packetID)
        }
        if r == MOTE_OK {
            unsubacks[packetID] = filter
            return true
        }
        return false
    }

    // MARK: C callbacks (owner thread, inside mote_mqtt_connect / mote_mqtt_process)

    fileprivate func handle(_ evt: UnsafePointer<mote_mqtt_event_t>) {
        switch evt.pointee.type {
        case MOTE_MQTT_EVT_PUBLISH:
            received(evt)
        case MOTE_MQTT_EVT_PUBLISH_DONE:
            let ack = evt.pointee.u.ack
            guard ack.packet_id != 0 else { return }
            let slot = inflightSlot(ack.packet_id)
            guard let p = inflightPublishes[slot], p.packetID == ack.packet_id else { return }
            inflightPublishes[slot] = nil
            p.packetID = 0
            if inConnect && ack.reason_code == 0x80 {
                droppedDuringConnect.append(p)
            } else if ack.reason_code >= 0x80 {
                fail(p, MQTTError.publishRejected(
                    reasonCode: ack.reason_code,
                    reason: PropertyCodec.reasonString(ack.props) ?? MQTTError.reasonText(ack.reason_code)))
                p.freeStorage()
            } else {
                succeed(p)
                p.freeStorage()
            }
        case MOTE_MQTT_EVT_SUBACK:
            let s = evt.pointee.u.suback
            guard let list = subacks.removeValue(forKey: s.packet_id) else { return }
            for (i, group) in list.enumerated() {
                let code: UInt8 = i < s.count ? s.reason_codes[i] : 0x80
                if code >= 0x80 {
                    failGroup(group, .subscriptionRejected(filter: group.filter, reasonCode: code,
                                                           reason: PropertyCodec.reasonString(s.props) ?? MQTTError.reasonText(code)))
                } else {
                    group.acknowledged = true
                    for w in group.waiters { w.resume() }
                    group.waiters.removeAll()
                }
            }
        case MOTE_MQTT_EVT_UNSUBACK:
            if unsubacks.removeValue(forKey: evt.pointee.u.suback.packet_id) != nil { publishFilters() }
        case MOTE_MQTT_EVT_DISCONNECT:
            let a = evt.pointee.u.ack
            serverDisconnect = (a.reason_code, PropertyCodec.reasonString(a.props) ?? MQTTError.reasonText(a.reason_code))
        default:
            break
        }
    }

    private func received(_ evt: UnsafePointer<mote_mqtt_event_t>) {
        let pub = evt.pointee.u.publish
        let msg = pub.msg
        let chunk = PropertyCodec.bytes(msg.payload)
        if !(pub.first && pub.last) {
            if pub.first {
                var m = makeMessage(msg, payload: [])
                m.payload.reserveCapacity(Int(pub.total))
                assembling = (m, Int(pub.total))
            }
            assembling?.message.payload.append(contentsOf: chunk)
            guard pub.last, let done = assembling else { return }
            assembling = nil
            route(done.message)
            return
        }
        route(makeMessage(msg, payload: chunk))
    }

    private func makeMessage(_ msg: mote_mqtt_publish_t, payload: [UInt8]) -> MQTTMessage {
        MQTTMessage(topic: PropertyCodec.string(msg.topic), payload: payload,
                    qos: MQTTQoS(rawValue: msg.qos) ?? .atMostOnce, retain: msg.retain, isDuplicate: msg.dup,
                    properties: version == .v5 ? PropertyCodec.decodePublish(msg.props) : MQTTPublishProperties())
    }

    private func route(_ message: MQTTMessage) {
        var targets: [FilterGroup] = []
        if !message.properties.subscriptionIdentifiers.isEmpty {
            for id in message.properties.subscriptionIdentifiers { if let g = groupsByID[id] { targets.append(g) } }
        } else {
            let topic = Array(message.topic.utf8)
            topic.withUnsafeBufferPointer { tp in
                let t = mote_bytes_t(ptr: tp.baseAddress, len: tp.count)
                for g in groups.values {
                    let f = Array(g.filter.utf8)
                    let match = f.withUnsafeBufferPointer { fp in
                        mote_mqtt_topic_matches(mote_bytes_t(ptr: fp.baseAddress, len: fp.count), t)
                    }
                    if match { targets.append(g) }
                }
            }
        }
        for g in targets {
            for sink in g.subscribers.values {
                if case .dropped = sink.yield(message) {
                    droppedMessages += 1
                    if droppedMessages == 1 || droppedMessages % 1000 == 0 {
                        logger.warning("subscription buffer full on \(g.filter): \(droppedMessages) messages dropped so far")
                    }
                }
            }
        }
    }

    fileprivate func trace(_ dir: CChar, _ packet: UnsafePointer<UInt8>, _ len: Int) {
        let names = ["?", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
                     "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"]
        let type = len > 0 ? Int(packet[0] >> 4) : 0
        let head = UnsafeBufferPointer(start: packet, count: min(len, 16)).map { String(format: "%02x", $0) }.joined(separator: " ")
        logger.trace("\(dir == 0x53 ? "sent" : "received") \(names[type]) (\(len) bytes): \(head)\(len > 16 ? " …" : "")")
    }
}

enum RetryMath {
    static func milliseconds(_ d: Duration) -> Int64 {
        let c = d.components
        return c.seconds * 1000 + c.attoseconds / 1_000_000_000_000_000
    }
}
