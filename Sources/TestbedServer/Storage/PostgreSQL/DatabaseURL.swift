import ArgumentParser
import Foundation

/// A PostgreSQL address as `--database` takes it:
/// `postgres://user[:password]@host[:port]/database`, or with `?host=/run/postgresql` for a
/// Unix socket directory.
struct DatabaseURL: Sendable, Equatable, CustomStringConvertible {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    /// The directory of the server's Unix socket, when it is reached through one.
    var socketDirectory: String?
    /// The socket file in it.
    var socketPath: String? { socketDirectory.map { "\($0)/.s.PGSQL.\(port)" } }

    init(parsing text: String) throws {
        let hidden = Self.hidingPassword(text)
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw ValidationError("--database \(hidden) is not a PostgreSQL URL; expected postgres://user[:password]@host[:port]/database")
        }
        guard let user = url.user, !user.isEmpty else { throw ValidationError("--database \(hidden) names no user; expected postgres://user@host/database") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw ValidationError("--database \(hidden) names no database; expected postgres://user@host/database")
        }
        let socketDirectory = url.queryItems?.first { $0.name == "host" }?.value
        // As written: URLComponents would decode percent signs and punycode, and print them back otherwise.
        let host = url.percentEncodedHost ?? ""
        guard !host.isEmpty || socketDirectory != nil else {
            throw ValidationError("--database \(hidden) names no host; expected postgres://user@host/database, or ?host=/socket/directory")
        }
        // Names as PostgreSQL deployments write them: nothing that a URL would read back differently
        // once printed (an IPv6 address without its brackets is a host too).
        func plain(_ text: String, also: String) -> Bool { text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || also.contains($0)) } }
        guard plain(host, also: ".-_:") else { throw ValidationError("--database \(hidden): '\(host.clipped())' is not a host name or address") }
        guard plain(user, also: ".-_$"), plain(database, also: ".-_$") else {
            throw ValidationError("--database \(hidden): the user and database names may hold ASCII letters, digits, '.', '-', '_' and '$' only")
        }
        if let port = url.port, !(1...65_535).contains(port) {
            throw ValidationError("--database \(hidden): port \(port) is not from 1 to 65535")
        }
        for item in url.queryItems ?? [] where !["host", "sslmode"].contains(item.name) || (item.name == "sslmode" && item.value != "disable") {
            throw ValidationError("--database \(hidden): '\(item.name)=\(item.value ?? "")' is not supported; only host=<socket directory> and sslmode=disable are")
        }
        // URLComponents answers user, password, host and path percent-decoded.
        (self.user, password, self.host, port, self.database) = (user, url.password, host, url.port ?? 5432, database)
        self.socketDirectory = socketDirectory
    }

    /// Where the database is, without the password.
    var description: String {
        var url = URLComponents()
        url.scheme = "postgres"
        url.user = user
        url.host = host.contains(":") ? "[\(host)]" : host
        url.port = port
        url.path = "/" + database
        if let socketDirectory { url.queryItems = [URLQueryItem(name: "host", value: socketDirectory)] }
        return url.string ?? "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The URL with its password replaced, for messages and logs.
    static func hidingPassword(_ text: String) -> String {
        // By the text, not by URLComponents, which cannot read every malformed URL it is shown.
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@"),
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":") else { return text.clipped() }
        return (text[..<text.index(after: colon)] + "****" + text[at...]).clipped()
    }
}
