import CMote
import CMotePOSIX
import CMoteShims
import Foundation
import Logging

// The owner thread's connection and subscription side: connect, loss, reconnect, shutdown,
// SUBSCRIBE/UNSUBSCRIBE bookkeeping, and the C client's callbacks. Owner thread only.
extension Engine {
    // MARK: Connecting

    func establish(cleanStart: Bool) throws(MQTTError) -> MQTTSessionInfo {
        guard let port = UInt16(exactly: configuration.port), port > 0 else {
            throw .invalidArgument("port \(configuration.port)")
        }
        let clientID = clientIDForConnect()
        if version == .v311 && clientID.isEmpty && !cleanStart {
            // The C client would refuse it too (MOTE_ERR_BAD_ARG), after opening the connection.
            throw .invalidArgument("MQTT 3.1.1 needs a client ID for a persistent session (cleanStart false): "
                                   + "an empty one is allowed only with cleanStart, and only a v5 broker assigns one")
        }
        let timeout = UInt32(clamping: RetryMath.milliseconds(configuration.connectTimeout))
        try link.open(host: configuration.host, port: port, timeoutMs: timeout)
        var info = mote_mqtt_session_info_t()
        serverDisconnect = nil
        inConnect = true
        droppedDuringConnect.removeAll()
        let r = ConnectOptions.withOptions(configuration, clientID: clientID, cleanStart: cleanStart) { opts in
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
        rememberAssignedIdentity(info, assigned: session.assignedClientID)
        // Messages the broker forgot with the old session go out again, in their first order.
        if !droppedDuringConnect.isEmpty {
            let again = droppedDuringConnect.sorted { $0.seq < $1.seq }
            droppedDuringConnect.removeAll()
            for p in again { p.freeStorage() }
            pending.replaceSubrange(0..<pendingHead, with: [])
            pendingHead = 0
            pending.insert(contentsOf: again, at: 0)
        }
        for group in groups.values {
            // A new session holds no subscriptions.
            if !session.sessionPresent { group.held = false }
            if !group.settled { group.needsSubscribe = true }
        }
        state = .connected
        restartAckClocks()
        logger.info("connected to \(configuration.host):\(port) (session present: \(session.sessionPresent))")
        return session
    }

    func connectionLost(_ error: MQTTError) {
        guard isConnected else { return }
        logger.warning("connection lost: \(error)")
        assignedIdentity?.endedAt = .now
        mote_mqtt_reset_connection(client)
        link.close()
        qos0Written.removeAll()
        // A group that failed while its SUBSCRIBE was unanswered left the broker holding what
        // that SUBSCRIBE asked for, maybe (a resumed session keeps it): unsubscribed after
        // the reconnect, unless the filter is in use again.
        for sent in Array(subacks.values.joined()) + Array(lateSubacks.values.joined()) where groups[sent.group.filter] == nil {
            unsubscribeLater.insert(sent.group.filter)
        }
        subacks.removeAll()
        // No deadlines while offline: a reconnect starts the clocks of what it resends.
        subscribeSentAt.removeAll()
        unsubscribeSentAt.removeAll()
        lateSubacks.removeAll()
        nextAckCheck = nil
        // An UNSUBSCRIBE whose ack was lost goes out again, unless the filter has been
        // subscribed again since (the group resubscribes instead).
        for filter in unsubacks.values where groups[filter] == nil { unsubscribeLater.insert(filter) }
        unsubacks.removeAll()
        for group in groups.values {
            group.outstanding.removeAll()
            if !group.settled { group.needsSubscribe = true }
        }
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

    func scheduleReconnect(attempt: Int) {
        if let max = configuration.reconnect.maximumAttempts, attempt >= max {
            shutdown(error: .closed, emitClosed: true)
            return
        }
        let delay = configuration.reconnect.delay(forAttempt: attempt)
        emit(.reconnecting(attempt: attempt, delay: delay))
        state = .waitingToReconnect(deadline: ContinuousClock.now + delay, attempt: attempt)
    }

    func reconnect(attempt: Int) {
        do {
            // A persistent session is resumed; a clean one starts again (and is rebuilt).
            let info = try establish(cleanStart: configuration.cleanStart)
            emit(.connected(info))
        } catch .invalidArgument(let why) {
            // The settings themselves are refused: no later attempt can do better.
            logger.error("reconnecting is not possible: \(why)")
            shutdown(error: .invalidArgument(why), emitClosed: true)
        } catch {
            // Refusals count as failed attempts too: brokers refuse while they restart.
            logger.debug("reconnect attempt \(attempt) failed: \(error)")
            scheduleReconnect(attempt: attempt + 1)
        }
    }

    // MARK: Assigned client identifier

    /// The client ID for the next CONNECT: the configured one, or, when that is empty, the one
    /// a v5 broker assigned while the session kept under it may still exist. Connecting with
    /// the empty one again would start a new session under a new identifier, and the kept
    /// session (subscriptions, unacknowledged messages) would be lost.
    func clientIDForConnect() -> String {
        guard let identity = assignedIdentity else { return configuration.clientID }
        if let lifetime = identity.lifetime, let ended = identity.endedAt, ContinuousClock.now - ended >= lifetime {
            logger.debug("session of assigned client ID \(identity.clientID) has expired: asking for a new one")
            assignedIdentity = nil
            return configuration.clientID
        }
        return identity.clientID
    }

    /// After a CONNACK: keep the assigned identifier (the one connected with, when the broker
    /// assigned none this time) while a session that outlives the connection is kept under it.
    func rememberAssignedIdentity(_ info: mote_mqtt_session_info_t, assigned: String?) {
        guard version == .v5, configuration.clientID.isEmpty else { return }
        var expiry = configuration.sessionExpiryInterval
        // The broker may have chosen another expiry interval; it says so in CONNACK.
        var p = mote_mqtt_prop_t()
        if info.props.len > 0 && mote_mqtt_prop_find(info.props, PropertyCodec.sessionExpiry, &p) { expiry = p.u32 }
        guard let id = assigned ?? assignedIdentity?.clientID, expiry > 0 else {
            // The session ends with the connection: the next one may as well get a new identifier.
            assignedIdentity = nil
            return
        }
        // The broker starts the expiry clock when it notices the connection has ended, which
        // can be up to 1.5 keep-alive intervals after the client did.
        let lifetime: Duration? = expiry == .max ? nil : .seconds(expiry) + .milliseconds(Int64(info.keep_alive_s) * 1500)
        assignedIdentity = AssignedIdentity(clientID: id, lifetime: lifetime, endedAt: nil)
    }

    /// Stop the owner loop: fail what waits, end subscriptions, close the link.
    func shutdown(error: MQTTError?, emitClosed: Bool) {
        // Ends the connection, if there is one (after a lost one it ended already).
        if var identity = assignedIdentity, identity.endedAt == nil {
            identity.endedAt = .now
            assignedIdentity = identity
        }
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
            for w in group.waiters { w.ack.resume(throwing: failure) }
            for sink in group.subscribers.values {
                if let error { sink.finish(throwing: error) } else { sink.finish() }
            }
        }
        groups.removeAll()
        groupsByID.removeAll()
        subscriberGroup.removeAll()
        subacks.removeAll()
        subscribeSentAt.removeAll()
        unsubscribeSentAt.removeAll()
        lateSubacks.removeAll()
        nextAckCheck = nil
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

    func addSubscriber(_ r: SubscribeRequest) {
        let group: FilterGroup
        if let g = groups[r.filter] {
            group = g
            // A higher QoS takes a SUBSCRIBE of its own; the subscribers of the lower one
            // keep it (and are not answered by this one's SUBACK, nor failed by its refusal).
            if r.qos > g.qos {
                g.qos = r.qos
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
        group.wanted[r.subscriberID] = r.qos
        subscriberGroup[r.subscriberID] = r.filter
        unsubscribeLater.remove(r.filter)
        if group.held, let granted = group.granted, granted >= r.qos {
            r.ack.resume()
        } else {
            group.waiters.append(SubscribeWaiter(subscriberID: r.subscriberID, qos: r.qos, ack: r.ack))
            // A waiter needs a SUBSCRIBE on its way (a resubscribe that timed out leaves a
            // group unsettled with none).
            subscribeIfUncovered(group)
        }
        publishFilters()
    }

    func removeSubscriber(_ id: Int) {
        guard let filter = subscriberGroup.removeValue(forKey: id), let group = groups[filter] else { return }
        // cancel() ends a loop still waiting on the subscription (finishing one that ended
        // already, the way most removals come here, does nothing).
        group.subscribers.removeValue(forKey: id)?.finish()
        group.wanted.removeValue(forKey: id)
        if group.subscribers.isEmpty {
            endGroup(group)
        } else {
            group.lowerToWanted()
        }
    }

    /// The last subscriber of a group is gone: forget the group and unsubscribe its filter.
    func endGroup(_ group: FilterGroup) {
        groups.removeValue(forKey: group.filter)
        groupsByID.removeValue(forKey: group.subscriptionID)
        for w in group.waiters { w.ack.resume(throwing: MQTTError.closed) }
        group.waiters.removeAll()
        if !sendUnsubscribe(group.filter) { unsubscribeLater.insert(group.filter) }
        publishFilters()
    }

    /// Filters the broker has (or is being asked to drop), for observers and tests.
    func publishFilters() {
        var filters = Set(groups.keys)
        filters.formUnion(unsubacks.values)
        filters.formUnion(unsubscribeLater)
        let list = filters.sorted()
        shared.withLock { $0.activeFilters = list }
    }

    func sendSubscribe(_ group: FilterGroup) -> Bool {
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
            group.outstanding.append(group.qos)
            subacks[packetID, default: []].append((group, group.qos))
            if ackTimeout != nil {
                let now = ContinuousClock.now
                subscribeSentAt[packetID] = now
                armAckCheck(sentAt: now)
            }
            return true
        }
        if r == MOTE_ERR_NO_SPACE { subscribeBlocked = true }
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

    func failGroup(_ group: FilterGroup, _ err: MQTTError) {
        groups.removeValue(forKey: group.filter)
        groupsByID.removeValue(forKey: group.subscriptionID)
        for w in group.waiters { w.ack.resume(throwing: err) }
        group.waiters.removeAll()
        for (id, sink) in group.subscribers {
            sink.finish(throwing: err)
            subscriberGroup.removeValue(forKey: id)
        }
        group.subscribers.removeAll()
        group.wanted.removeAll()
        publishFilters()
    }

    /// A SUBACK granted a SUBSCRIBE that asked for `qos`: the subscribers waiting for at most
    /// that QoS are answered; those waiting for more wait for the SUBACK of their own SUBSCRIBE.
    /// `late`: the SUBSCRIBE timed out before (its QoS left `outstanding` then).
    func subscribeGranted(_ group: FilterGroup, asked qos: MQTTQoS, late: Bool = false) {
        if !late, let i = group.outstanding.firstIndex(of: qos) { group.outstanding.remove(at: i) }
        guard groups[group.filter] === group else {
            // The group failed while this SUBSCRIBE was unanswered (its removal sent no
            // UNSUBSCRIBE): drop what the broker now holds, unless the filter is in use again.
            if groups[group.filter] == nil && !unsubacks.values.contains(group.filter)
                && !unsubscribeLater.contains(group.filter) {
                if !sendUnsubscribe(group.filter) { unsubscribeLater.insert(group.filter) }
                publishFilters()
            }
            return
        }
        // The first grant of a new session is all the broker holds (what an earlier session
        // granted may be more: a subscriber wanting it has left since).
        if !group.held || group.granted.map({ qos > $0 }) ?? true { group.granted = qos }
        group.held = true
        if qos > group.qos { group.qos = qos }
        // Not above what the subscribers want (the one that asked for `qos` may be gone).
        group.lowerToWanted()
        var waiting: [SubscribeWaiter] = []
        for w in group.waiters {
            if w.qos <= qos { w.ack.resume() } else { waiting.append(w) }
        }
        group.waiters = waiting
        subscribeIfUncovered(group)
    }

    /// A SUBACK refused a SUBSCRIBE that asked for `qos`. An upgrade refused (the broker
    /// granted a lower QoS before and keeps it) fails only the subscribers that asked for that
    /// QoS; the group goes back to the QoS granted. Otherwise the whole group fails.
    func subscribeRefused(_ group: FilterGroup, asked qos: MQTTQoS, _ err: MQTTError) {
        if let i = group.outstanding.firstIndex(of: qos) { group.outstanding.remove(at: i) }
        guard groups[group.filter] === group else { return }
        guard let granted = group.granted, qos > granted else {
            // Nothing granted yet, or the QoS the subscribers already hold was refused (asked
            // again in a new session): the broker holds nothing for them.
            failGroup(group, err)
            return
        }
        var waiting: [SubscribeWaiter] = []
        for w in group.waiters {
            guard w.qos == qos else {
                waiting.append(w)
                continue
            }
            w.ack.resume(throwing: err)
            // Its subscription ends with the error too (subscribe() throws it; the stream
            // is not handed out).
            group.wanted.removeValue(forKey: w.subscriberID)
            if let sink = group.subscribers.removeValue(forKey: w.subscriberID) {
                sink.finish(throwing: err)
                subscriberGroup.removeValue(forKey: w.subscriberID)
            }
        }
        group.waiters = waiting
        group.qos = max(granted, waiting.map(\.qos).max() ?? granted)
        group.lowerToWanted()
        if group.subscribers.isEmpty {
            endGroup(group)
            return
        }
        subscribeIfUncovered(group)
    }

    /// After a SUBACK: when the broker does not hold the QoS the group wants and no SUBSCRIBE
    /// sent or due asks for it (a refused one asked for more than the waiters left want, or
    /// the broker holds nothing since a new session), ask for it.
    func subscribeIfUncovered(_ group: FilterGroup) {
        guard !group.needsSubscribe, !group.settled else { return }
        if group.outstanding.contains(where: { $0 >= group.qos }) { return }
        group.needsSubscribe = true
    }

    func sendUnsubscribe(_ filter: String) -> Bool {
        guard isConnected else { return false }
        let bytes = Array(filter.utf8)
        var packetID: UInt16 = 0
        let r = bytes.withUnsafeBufferPointer { fp in
            var f = mote_bytes_t(ptr: fp.baseAddress, len: fp.count)
            return mote_mqtt_unsubscribe(client, &f, 1, mote_mqtt_props_t(), &packetID)
        }
        if r == MOTE_OK {
            unsubacks[packetID] = filter
            if ackTimeout != nil {
                let now = ContinuousClock.now
                unsubscribeSentAt[packetID] = now
                armAckCheck(sentAt: now)
            }
            return true
        }
        if r == MOTE_ERR_NO_SPACE { subscribeBlocked = true }
        return false
    }

    // MARK: C callbacks (owner thread, inside mote_mqtt_connect / mote_mqtt_process)

    func handle(_ evt: UnsafePointer<mote_mqtt_event_t>) {
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
                // Dropped with the old session: sent again, unless its caller already had
                // an answer (it failed at disconnect() or was cancelled).
                if p.isSettled { p.freeStorage() } else { droppedDuringConnect.append(p) }
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
            subscribeRoom = subscribeBlocked
            subscribeSentAt.removeValue(forKey: s.packet_id)
            guard let list = subacks.removeValue(forKey: s.packet_id) else {
                // Too late: its callers have their timeout. A grant still tells what the
                // broker holds (a group gone since is unsubscribed); a refusal changes nothing.
                guard let late = lateSubacks.removeValue(forKey: s.packet_id) else { return }
                for (i, sent) in late.enumerated() where i < s.count && s.reason_codes[i] < 0x80 {
                    subscribeGranted(sent.group, asked: sent.qos, late: true)
                }
                return
            }
            for (i, sent) in list.enumerated() {
                let code: UInt8 = i < s.count ? s.reason_codes[i] : 0x80
                if code >= 0x80 {
                    subscribeRefused(sent.group, asked: sent.qos, .subscriptionRejected(
                        filter: sent.group.filter, reasonCode: code,
                        reason: PropertyCodec.reasonString(s.props) ?? MQTTError.reasonText(code)))
                } else {
                    subscribeGranted(sent.group, asked: sent.qos)
                }
            }
        case MOTE_MQTT_EVT_UNSUBACK:
            subscribeRoom = subscribeBlocked
            let id = evt.pointee.u.suback.packet_id
            unsubscribeSentAt.removeValue(forKey: id)
            // Also when it timed out: the broker dropped the filter.
            if unsubacks.removeValue(forKey: id) != nil { publishFilters() }
        case MOTE_MQTT_EVT_DISCONNECT:
            let a = evt.pointee.u.ack
            serverDisconnect = (a.reason_code, PropertyCodec.reasonString(a.props) ?? MQTTError.reasonText(a.reason_code))
        default:
            break
        }
    }

    func received(_ evt: UnsafePointer<mote_mqtt_event_t>) {
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

    func makeMessage(_ msg: mote_mqtt_publish_t, payload: [UInt8]) -> MQTTMessage {
        MQTTMessage(topic: PropertyCodec.string(msg.topic), payload: payload,
                    qos: MQTTQoS(rawValue: msg.qos) ?? .atMostOnce, retain: msg.retain, isDuplicate: msg.dup,
                    properties: version == .v5 ? PropertyCodec.decodePublish(msg.props) : MQTTPublishProperties())
    }

    func route(_ message: MQTTMessage) {
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

    func trace(_ dir: CChar, _ packet: UnsafePointer<UInt8>, _ len: Int) {
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

/// A client identifier a v5 broker assigned (the configured one is empty), kept for connecting
/// again while the session under it may still exist.
struct AssignedIdentity {
    let clientID: String
    /// How long the broker may keep the session after the connection ends (nil: for ever).
    var lifetime: Duration?
    /// When the last connection under it ended (nil: connected now).
    var endedAt: ContinuousClock.Instant?
}
