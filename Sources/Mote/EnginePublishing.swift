import CMote
import CMotePOSIX
import CMoteShims
import Foundation
import Logging

// The owner thread's publishing side: QoS 0 hand-offs, the pending queue and its pump into
// the C client, answers to waiting callers, cancellation. Owner thread only (see Engine).
extension Engine {
    /// Hand the waiting QoS 0 messages to the C client until its output is full. Small ones
    /// are copied into tx_buf straight from the Swift values (the C client copies packets
    /// that fit a quarter of an empty tx_buf); larger ones, which it may write from caller
    /// memory, go through `PendingPublish` storage that outlives the write.
    func sendQuick() {
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
    func publishQuick(_ message: QoS0Message, directLimit: Int) -> mote_err_t {
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
    func publishLarge(_ message: QoS0Message) -> mote_err_t {
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

    func handle(_ command: Command) {
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

    func handle(_ request: PublishRequest) {
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
    func handle(_ batch: PublishBatch) {
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
    func drainOutput() {
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
    func withdrawCancelled() {
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

    func succeed(_ p: PendingPublish) {
        if p.settle(nil) { answers.append(p) }
    }

    func fail(_ p: PendingPublish, _ error: any Error) {
        if p.settle(error) { answers.append(p) }
    }

    /// Resume the callers of settled publishes. Called by the owner with `shared` locked
    /// (it takes the lock every loop turn, before sleeping and when it ends), and callers
    /// take the lock once resumed (`afterAnswer`): an answer may come before its caller has
    /// suspended, and the runtime then hands the result over with atomics the thread
    /// sanitizer cannot see; the lock makes the order visible to it. Batching also keeps
    /// resumes off the path that reads acks.
    func deliverAnswers() {
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

    func nextSeq() -> UInt64 {
        publishSeq += 1
        return publishSeq
    }

    func enqueue(_ p: PendingPublish) {
        if pendingHead > 64 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        pending.append(p)
    }

    func canPumpMore() -> Bool {
        if subscribeRoom { return true }
        guard pendingHead < pending.count || quickHead < quick.count, mote_mqtt_tx_pending(client) == 0 else { return false }
        guard let blocked = blockedAtInflight else { return true }
        return mote_mqtt_inflight_count(client) < blocked
    }

    /// Hand queued publishes and subscriptions to the C client while it has room.
    func pump() {
        blockedAtInflight = nil
        subscribeBlocked = false
        subscribeRoom = false
        for group in groups.values where group.needsSubscribe {
            if !sendSubscribe(group) { break }
        }
        if subscribeBlocked { failSubscribesBehindTimedOut() }
        if !unsubscribeLater.isEmpty {
            for filter in unsubscribeLater where groups[filter] != nil || sendUnsubscribe(filter) {
                unsubscribeLater.remove(filter)
            }
        }
        if quickHead < quick.count {
            // Earlier hand-offs go first; `pending` waits until they are all written.
            sendQuick()
            if quickHead < quick.count { return }
        }
        // One clock reading for the publishes this call hands over (taken at the first).
        var sentAt: ContinuousClock.Instant?
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
                    if ackTimeout != nil {
                        let now = sentAt ?? ContinuousClock.now
                        sentAt = now
                        p.sentAt = now
                        armAckCheck(sentAt: now)
                    }
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
    func inflightSlot(_ packetID: UInt16) -> Int {
        (Int(packetID) &- 1) % inflightCapacity
    }

    static func isConnectionError(_ r: mote_err_t) -> Bool {
        let v = r.rawValue
        return v == MOTE_ERR_NOT_CONNECTED.rawValue || v == MOTE_ERR_KEEPALIVE_TIMEOUT.rawValue
            || v == MOTE_ERR_SERVER_DISCONNECT.rawValue || v == MOTE_ERR_PROTOCOL.rawValue
            || (v <= MOTE_ERR_TRANSPORT.rawValue && v >= MOTE_ERR_TLS_BAD_CERT.rawValue)
            || v == MOTE_ERR_TIMEOUT.rawValue
    }

    func error(from r: mote_err_t) -> MQTTError {
        if r == MOTE_ERR_SERVER_DISCONNECT, let d = serverDisconnect {
            return .serverDisconnected(reasonCode: d.code, reason: d.reason)
        }
        return MQTTError.fromCore(r.rawValue)
    }
}
