import Foundation
import Hummingbird

/// The query API's routes (`/api/v1/…`) and the dashboard (`/`) over a ``LiveStore``. Every answer is JSON;
/// a refused request gets a 4xx with an ``API/ErrorBody`` naming the parameter, never a 500.
struct QueryAPI: Sendable {
    let live: LiveStore?

    func register(on router: Router<BasicRequestContext>) {
        guard let live else {
            router.get("/api/**") { _, _ in
                json(APIError(status: 404, parameter: nil, "this process holds no live state: run `vigil serve` or `vigil demo`").body, 404)
            }
            return
        }
        router.get("/") { _, _ in text(.ok, Dashboard.html, contentType: "text/html; charset=utf-8") }
        router.get("/api/v1/enterprises") { request, _ in
            answer { () throws(APIError) in
                let q = try EnterpriseQuery(pairs(request))
                return live.read { $0.enterprises(q) }
            }
        }
        router.get("/api/v1/enterprises/{id}") { request, context in
            answer { () throws(APIError) in
                _ = try QueryParameters(pairs(request), allowed: [])
                let id = context.parameters.get("id") ?? ""
                guard let portrait = live.read({ $0.portrait(id) }) else {
                    throw APIError(status: 404, parameter: "id", "no grade of enterprise '\(id)' has been read")
                }
                return portrait
            }
        }
        router.get("/api/v1/alerts") { request, _ in
            answer { () throws(APIError) in
                let q = try AlertQuery(pairs(request))
                return live.read { $0.alerts(q) }
            }
        }
        router.get("/api/v1/heatmap") { request, _ in
            answer { () throws(APIError) in
                let q = try HeatmapQuery(pairs(request))
                return live.read { $0.heatmap(by: q.by) }
            }
        }
        router.get("/api/**") { request, _ in
            json(
                APIError(
                    status: 404, parameter: nil,
                    "no endpoint \(request.uri.path); try /api/v1/enterprises, /api/v1/enterprises/{id}, /api/v1/alerts or /api/v1/heatmap"
                ).body, 404)
        }
    }
}

func pairs(_ request: Request) -> [(String, String)] {
    request.uri.queryParameters.map { (String($0.key), String($0.value)) }
}

/// The body of a handler's answer, or its refusal as a JSON error.
func answer(_ body: () throws(APIError) -> some Encodable) -> Response {
    do {
        return json(try body(), 200)
    } catch {
        return json(error.body, error.status)
    }
}

func json(_ value: some Encodable, _ status: Int) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else {
        return text(.internalServerError, #"{"error":{"status":500,"message":"the answer could not be encoded"}}"#)
    }
    return Response(
        status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
