import CMote
import Foundation

// The owner thread's acknowledgement deadlines (`MQTTConfiguration.ackTimeout`): a QoS 1/2
// publish or a SUBSCRIBE handed to the C client and unanswered for that long fails its caller
// with `MQTTError.timeout`; an UNSUBSCRIBE unanswered for that long fails nobody, but counts
// as timed out for a subscribe() blocked behind it. Owner thread only (see Engine). No timer of its own: the loop
// calls `checkAckTimeouts` every turn while `nextAckCheck` is set (a comparison until it is
// due) and sleeps no longer than `millisecondsToAckCheck`.
extension Engine {
    /// A request was sent at `sentAt`: make sure the loop looks at it when it is due. Requests
    /// are sent in time order with one timeout, so an earlier check stays the earliest.
    @inline(__always)
    func armAckCheck(sentAt: ContinuousClock.Instant) {
        guard nextAckCheck == nil, let timeout = ackTimeout else { return }
        nextAckCheck = sentAt + timeout
    }

    /// After a connect: the in-flight publishes a present session resends start their clock
    /// now (SUBSCRIBEs are sent again by `pump`, which starts theirs).
    func restartAckClocks() {
        nextAckCheck = nil
        guard ackTimeout != nil else { return }
        let now = ContinuousClock.now
        for i in 0..<inflightCapacity {
            guard let p = inflightPublishes[i], p.sentAt != nil, !p.isSettled else { continue }
            p.sentAt = now
            armAckCheck(sentAt: now)
        }
    }

    /// How long the loop may sleep before the next check is due (at least 1 ms, so that a
    /// check due in under a millisecond does not turn into a busy loop).
    func millisecondsToAckCheck() -> UInt32 {
        guard let due = nextAckCheck else { return .max }
        let ms = RetryMath.milliseconds(due - ContinuousClock.now)
        return UInt32(clamping: max(1, ms + 1))
    }

    /// Fail the callers of requests unanswered for `ackTimeout`, and find when the next one
    /// is due. A publish that timed out stays in flight, like a cancelled one: the C session
    /// keeps it (it may still reach the broker and is resent after a reconnect) and its late
    /// ack is ignored (its caller is settled). A SUBSCRIBE that timed out stays expected by the
    /// C client, so its late SUBACK is no protocol error (`lateSubacks`).
    func checkAckTimeouts() {
        guard let timeout = ackTimeout, let due = nextAckCheck else { return }
        let now = ContinuousClock.now
        guard now >= due else { return }
        var next: ContinuousClock.Instant?
        for i in 0..<inflightCapacity {
            guard let p = inflightPublishes[i], let sent = p.sentAt else { continue }
            if p.isSettled {
                // Answered another way (cancelled, or failed at disconnect): no clock.
                p.sentAt = nil
                continue
            }
            let deadline = sent + timeout
            if deadline <= now {
                p.sentAt = nil
                fail(p, MQTTError.timeout)
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        var expired: [(id: UInt16, sent: ContinuousClock.Instant)] = []
        for (id, sent) in subscribeSentAt {
            let deadline = sent + timeout
            if deadline <= now {
                expired.append((id, sent))
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        // An UNSUBSCRIBE that timed out answers nobody (nothing waits for it); it only stops
        // counting as a request that may still be answered (`failSubscribesBehindTimedOut`).
        var unsubscribesExpired = false
        for (id, sent) in unsubscribeSentAt {
            let deadline = sent + timeout
            if deadline <= now {
                unsubscribeSentAt.removeValue(forKey: id)
                unsubscribesExpired = true
            } else if next.map({ deadline < $0 }) ?? true {
                next = deadline
            }
        }
        nextAckCheck = next
        // A subscribe() blocked behind them may now be failed: pump again at once.
        if subscribeBlocked && (unsubscribesExpired || !expired.isEmpty) { subscribeRoom = true }
        guard !expired.isEmpty else { return }
        // In the order they were sent: an earlier SUBSCRIBE's waiters are answered first.
        expired.sort { ($0.sent, $0.id) < ($1.sent, $1.id) }
        for (id, _) in expired {
            subscribeSentAt.removeValue(forKey: id)
            guard let list = subacks.removeValue(forKey: id) else { continue }
            lateSubacks[id] = list
            for sent in list { subscribeTimedOut(sent.group, asked: sent.qos) }
        }
    }

    /// A SUBSCRIBE that asked for `qos` got no SUBACK in time. The subscribe() calls it was to
    /// answer (those waiting for at most `qos`) fail with `MQTTError.timeout` and their
    /// subscriptions end, like the calls a refusal answers; those waiting for more wait for
    /// their own SUBSCRIBE. Subscribers already answered keep their subscription (a resubscribe
    /// after a reconnect that is not answered in time fails no one; the next reconnect asks
    /// again). A group left without subscribers ends (and is unsubscribed, in case the broker
    /// took the SUBSCRIBE after all).
    func subscribeTimedOut(_ group: FilterGroup, asked qos: MQTTQoS) {
        if let i = group.outstanding.firstIndex(of: qos) { group.outstanding.remove(at: i) }
        guard groups[group.filter] === group else { return }
        var waiting: [SubscribeWaiter] = []
        for w in group.waiters {
            guard w.qos <= qos else {
                waiting.append(w)
                continue
            }
            w.ack.resume(throwing: MQTTError.timeout)
            group.wanted.removeValue(forKey: w.subscriberID)
            if let sink = group.subscribers.removeValue(forKey: w.subscriberID) {
                sink.finish(throwing: MQTTError.timeout)
                subscriberGroup.removeValue(forKey: w.subscriberID)
            }
        }
        group.waiters = waiting
        if group.subscribers.isEmpty {
            endGroup(group)
            return
        }
        // Subscribers remain: some QoS was granted before, or some wait for more.
        if let top = ([group.granted].compactMap { $0 } + waiting.map(\.qos)).max() { group.qos = top }
        group.lowerToWanted()
        // Those still waiting must have a SUBSCRIBE on its way; the others' SUBSCRIBE is
        // not sent again before the next reconnect.
        if !waiting.isEmpty { subscribeIfUncovered(group) }
    }

    /// After `pump`: the C client had no room for a SUBSCRIBE, and every request it awaits an
    /// ack for timed out (SUBSCRIBEs in `lateSubacks`, UNSUBSCRIBEs unanswered for
    /// `ackTimeout`; none still on time), so no slot frees unless the broker answers after
    /// all. The subscribe() calls waiting for a SUBSCRIBE not sent fail with
    /// `MQTTError.timeout` instead of waiting for good, as if theirs had been sent and timed
    /// out; the group keeps what the broker granted before.
    func failSubscribesBehindTimedOut() {
        guard subscribeBlocked, ackTimeout != nil, subacks.isEmpty, unsubscribeSentAt.isEmpty,
              !lateSubacks.isEmpty || !unsubacks.isEmpty else { return }
        for group in groups.values where group.needsSubscribe && !group.waiters.isEmpty {
            subscribeTimedOut(group, asked: group.qos)
            if groups[group.filter] === group && group.settled { group.needsSubscribe = false }
        }
    }
}
