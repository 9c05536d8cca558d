import Foundation
import NIOConcurrencyHelpers

/// A token bucket per key: `rate` requests per second on average, bursts up to `rate` (at least one
/// request, so a rate below one a second still lets a request through every `1 / rate` seconds).
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: UInt64
    }

    let rate: Double
    /// The most tokens a bucket holds: a fresh key's first burst.
    private let burst: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    /// `rate <= 0` disables the limit.
    init(rate: Double) {
        self.rate = rate
        burst = max(1, rate)
    }

    /// The rate as a client reads it in a refusal: `2`, `0.25`.
    var rateDescription: String {
        rate == rate.rounded() && rate < 1e15 ? String(Int64(rate)) : String(rate)
    }

    /// Takes a token for `key`; when none is left, the whole seconds until one is.
    func acquire(_ key: String, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Int? {
        guard rate > 0 else { return nil }
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            // `now` is read before the lock: a request that read the clock earlier may come second,
            // and its time must neither refill the bucket nor move it back.
            let elapsed = now > bucket.updated ? now - bucket.updated : 0
            bucket.tokens = min(burst, bucket.tokens + Double(elapsed) / 1e9 * rate)
            bucket.updated = max(bucket.updated, now)
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            // At most 1 / rate seconds: finite because the server refuses rates that are not.
            return max(1, Int(min(86_400, ((1 - bucket.tokens) / rate).rounded(.up))))
        }
    }
}
