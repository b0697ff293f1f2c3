import NIOHTTP1
import XDSCRequest

/// The connection manager's local replies to gRPC requests (`Utility::prepareLocalReply`
/// and `encodeLocalReply`, source/common/http/utility.cc): a trailers-only response with
/// `:status` 200, `content-type: application/grpc`, the `grpc-status` the HTTP status maps to
/// (`Grpc::Utility::httpToGrpcStatus`, source/common/grpc/status.cc) and the body text,
/// percent-encoded, as `grpc-message`.
enum GRPCLocalReply {
    /// `Grpc::Common::hasGrpcContentType`: `application/grpc`, or `application/grpc+...`
    /// (`application/grpc-web` is not gRPC).
    static func isGRPC(_ head: HTTPRequestHead) -> Bool {
        guard let type = head.headers.first(name: "content-type") else { return false }
        let grpc = "application/grpc"
        guard type.hasPrefix(grpc) else { return false }
        return type.utf8.count == grpc.utf8.count || type.utf8.dropFirst(grpc.utf8.count).first == UInt8(ascii: "+")
    }

    /// `httpToGrpcStatus`.
    static func grpcStatus(httpStatus: Int) -> Int {
        switch httpStatus {
        case 400: 13  // Internal
        case 401: 16  // Unauthenticated
        case 403: 7  // PermissionDenied
        case 404: 12  // Unimplemented
        case 429, 502, 503, 504: 14  // Unavailable
        default: 2  // Unknown
        }
    }

    /// `PercentEncoding::encode` with its default reserved set: `%` and every byte outside
    /// printable ASCII become `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            if b < 0x20 || b > 0x7E || b == UInt8(ascii: "%") {
                let hex = String(b, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(b))
            }
        }
        return out
    }

    /// The headers of the local reply with `status` and `body` to a gRPC request, from the
    /// headers the plain reply would have (the route's response mutations applied): the
    /// status becomes 200 and the body goes into `grpc-message` (not for `HEAD`); a
    /// `grpc-status` the mutations set is kept. Over HTTP/1.1 the headers-only response gets
    /// `content-length: 0`, as Envoy's HTTP/1 codec adds to it.
    static func headers(status: Int, body: String, headers: [HTTPHeader], head: HTTPRequestHead) -> [HTTPHeader] {
        var out = DownstreamHandler.overwriting(
            headers.filter { $0.name != "content-length" }, with: [HTTPHeader("content-type", "application/grpc")])
        if !out.contains(where: { $0.name == "grpc-status" }) {
            out.append(HTTPHeader("grpc-status", String(grpcStatus(httpStatus: status))))
        }
        if !body.isEmpty && head.method != .HEAD {
            out.removeAll { $0.name == "grpc-message" }
            out.append(HTTPHeader("grpc-message", percentEncoded(body)))
        }
        if head.version.major < 2 { out.append(HTTPHeader("content-length", "0")) }
        return out
    }
}
