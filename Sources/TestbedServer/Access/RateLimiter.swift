import Foundation
import NIOConcurrencyHelpers

/// A token bucket per key: `rate` requests per second on average, bursts up to `rate`.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    let rate: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    /// `rate <= 0` disables the limit.
    init(rate: Double) {
        self.rate = rate
    }

    /// Takes a token for `key`; when none is left, the whole seconds until one is.
    func acquire(_ key: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: rate, updated: now)
            bucket.tokens = min(rate, bucket.tokens + Double(now &- bucket.updated) / 1e9 * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up)))
        }
    }
}
