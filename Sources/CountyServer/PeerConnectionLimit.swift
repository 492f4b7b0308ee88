import NIOCore
import Synchronization

/// Open connections per peer address, shared by every connection of one server.
final class PeerConnections: Sendable {
    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection; false (and not counted) when the peer has `limit` open already.
    func opened(_ peer: String) -> Bool {
        open.withLock {
            guard $0[peer, default: 0] < limit else { return false }
            $0[peer, default: 0] += 1
            return true
        }
    }

    func closed(_ peer: String) {
        open.withLock {
            let left = $0[peer, default: 1] - 1
            $0[peer] = left > 0 ? left : nil
        }
    }
}

/// Closes a connection at once when its peer already holds its share of them, so that one
/// address cannot take every file descriptor (slow senders are closed by the idle timeout).
final class PeerConnectionLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let peers: PeerConnections

    init(peers: PeerConnections) { self.peers = peers }

    func handlerAdded(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress?.ipAddress ?? "local"
        guard peers.opened(peer) else {
            context.close(promise: nil)
            return
        }
        let peers = self.peers
        context.channel.closeFuture.whenComplete { _ in peers.closed(peer) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }
}
