import Testing
@testable import TestbedServer

/// The token bucket on its own clock: bursts, refills, rates below one a second, and keys apart.
@Suite("rate limiter")
struct RateLimiterTests {
    private static let second: UInt64 = 1_000_000_000

    @Test func aBurstOfTheRateThenOneTokenPerPeriod() {
        let limiter = RateLimiter(rate: 2)
        #expect(limiter.acquire("a", now: 0) == nil)
        #expect(limiter.acquire("a", now: 0) == nil)
        #expect(limiter.acquire("a", now: 0) == 1)
        // Another key has a bucket of its own.
        #expect(limiter.acquire("b", now: 0) == nil)
        // Half a second gives one token back.
        #expect(limiter.acquire("a", now: Self.second / 2) == nil)
        #expect(limiter.acquire("a", now: Self.second / 2) == 1)
    }

    @Test func aRateBelowOneASecondLetsOneRequestThroughPerPeriod() {
        let limiter = RateLimiter(rate: 0.25)
        #expect(limiter.rateDescription == "0.25")
        #expect(limiter.acquire("a", now: 0) == nil)
        #expect(limiter.acquire("a", now: 0) == 4)
        #expect(limiter.acquire("a", now: 3 * Self.second) == 1)
        #expect(limiter.acquire("a", now: 4 * Self.second) == nil)
        // Waiting longer stores no more than one request.
        #expect(limiter.acquire("a", now: 100 * Self.second) == nil)
        #expect(limiter.acquire("a", now: 100 * Self.second) == 4)
    }

    /// The clock is read before the bucket's lock: a request that read it earlier may be served
    /// second. Its earlier time gives no tokens back (an unsigned difference would wrap around to
    /// centuries and refill the bucket) and does not move the bucket's time back.
    @Test func anEarlierClockReadingRefillsNothing() {
        let limiter = RateLimiter(rate: 1)
        #expect(limiter.acquire("a", now: 10 * Self.second) == nil)
        #expect(limiter.acquire("a", now: 9 * Self.second) == 1)
        #expect(limiter.acquire("a", now: 10 * Self.second + Self.second / 2) == 1)
        #expect(limiter.acquire("a", now: 11 * Self.second) == nil)
    }

    @Test func noLimitAtZero() {
        let limiter = RateLimiter(rate: 0)
        #expect((0..<1000).allSatisfy { _ in limiter.acquire("a", now: 0) == nil })
        #expect(RateLimiter(rate: 50_000).rateDescription == "50000")
    }
}
