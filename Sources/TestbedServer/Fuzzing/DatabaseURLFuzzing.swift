import Foundation

/// Fuzzes `--database` (and `TESTBED_DATABASE_URL`): any text is refused with a message or read
/// into parts whose description, read again, gives the same parts (the description is what the
/// logs show and what a test hands a second server).
enum DatabaseURLFuzzing {
    static func run(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        guard let url = try? DatabaseURL(parsing: text) else { return }
        _ = DatabaseURL.hidingPassword(text)
        guard let again = try? DatabaseURL(parsing: url.description) else {
            fatalError("'\(url.description)', the description of a URL read from '\(text)', is refused")
        }
        var withoutPassword = url
        withoutPassword.password = nil
        guard again == withoutPassword else { fatalError("'\(text)' read as \(url), its description as \(again)") }
    }
}
