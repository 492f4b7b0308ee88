import FieldKitCore
import Foundation
import Synchronization

/// Slows down guessing of enrollment codes. Only failed attempts count, so an officer's site
/// PC that enrolls at the first try is never held up:
/// - per peer address: ``perPeer`` failures in ``window``, then `too-many-attempts` (429) until
///   the oldest falls out of the window;
/// - per code: ``perCode`` failures naming the same code (a code someone half saw), then the
///   code is held the same way;
/// - in all: ``overall`` failures in the window from everyone (many addresses at once).
///
/// Twelve digits are 10¹² codes; at ``perPeer`` failures per 10 minutes an address would need
/// millions of years to find one of the few codes alive at a time.
public final class EnrollmentThrottle: Sendable {
    /// Failures allowed per peer address in a window.
    public let perPeer: Int
    /// Failures allowed per code in a window.
    public let perCode: Int
    /// Failures allowed from everyone in a window.
    public let overall: Int
    /// The window, in seconds.
    public let window: Int64
    /// Peers and codes remembered at most (the oldest are forgotten first).
    let capacity = 10_000

    private let state = Mutex<State>(State())

    struct State {
        var peers: [String: [Int64]] = [:]
        var codes: [String: [Int64]] = [:]
        var all: [Int64] = []
    }

    /// A throttle; the defaults are 10 failures per address, 5 per code and 1000 in all per 10 minutes.
    public init(perPeer: Int = 10, perCode: Int = 5, overall: Int = 1000, windowSeconds: Int64 = 600) {
        self.perPeer = perPeer
        self.perCode = perCode
        self.overall = overall
        self.window = windowSeconds
    }

    /// Seconds to wait before this peer (and, when known, this code) may try again; nil when it may try now.
    public func wait(peer: String, code: String?, now: Int64) -> Int64? {
        state.withLock { s in
            var waits: [Int64] = []
            if let w = wait(&s.peers[peer], limit: perPeer, now: now) { waits.append(w) }
            if let code, let w = wait(&s.codes[code], limit: perCode, now: now) { waits.append(w) }
            var all: [Int64]? = s.all
            if let w = wait(&all, limit: overall, now: now) { waits.append(w) }
            s.all = all ?? []
            return waits.max()
        }
    }

    /// Counts a failed attempt.
    public func failed(peer: String, code: String?, now: Int64) {
        state.withLock { s in
            if s.peers.count >= capacity { s.peers.removeAll() }
            if s.codes.count >= capacity { s.codes.removeAll() }
            s.peers[peer, default: []].append(now)
            if let code { s.codes[code, default: []].append(now) }
            s.all.append(now)
            if s.all.count > overall * 2 { s.all.removeFirst(s.all.count - overall) }
        }
    }

    /// Drops failures older than the window; the seconds until one more is allowed, when full.
    private func wait(_ times: inout [Int64]?, limit: Int, now: Int64) -> Int64? {
        guard var t = times else { return nil }
        t.removeAll { $0 <= now - window }
        times = t.isEmpty ? nil : t
        guard t.count >= limit, let oldest = t.first else { return nil }
        return max(1, oldest + window - now)
    }
}
