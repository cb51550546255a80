//! Holding a delivery stream's quota: how fast `PutRecordBatch` calls may
//! start and how many may be in flight, learned from Firehose's answers.
//!
//! A stream has a quota of bytes, records and requests per second; when a
//! call goes over it, Firehose refuses the whole call
//! (`ServiceUnavailableException`, `ThrottlingException`,
//! `LimitExceededException`) or some of its records (per-record
//! `ServiceUnavailableException`, "Slow down."). The SDK's own retry
//! re-sends a whole failed call and has no rate control for this, so the
//! batcher asks a [`Pace`] before every call and tells it how the call went:
//!
//! - **Multiplicative decrease** on a throttled answer: the calls allowed in
//!   flight halve, and the send rate becomes 70% of what it was; the first
//!   time, 70% of the bytes per second the stream accepted over the last
//!   [`METER_WINDOW`]. At most once per [`COOL_DOWN`], so that one burst of
//!   throttled calls counts once.
//! - **Additive increase** while calls are answered without throttling: one
//!   more call in flight per window's worth of clean calls, and the rate
//!   grows by a fixed step per second (1/8 of the rate at the last
//!   decrease), doubling for every second the stream has taken everything
//!   after [`PROBE_AFTER`] (up to 8 steps a second): an instance left alone
//!   on a stream soon uses all of it.
//! - Until the first throttled answer, calls are not paced at all.
//! - While paced, a call carries at most [`CALL_SECONDS`] of the rate (so
//!   that a 4 MiB batch does not wait for a slow rate and then mostly come
//!   back refused), and each call start is spaced by its bytes at the
//!   current rate, with ±10% jitter, so that instances sharing one stream do
//!   not move in step.
//!
//! One `Pace` lives as long as the function instance (per stream), so an
//! invocation starts at the rate the previous one learned.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The accepted bytes per second are measured over this much recent time.
pub const METER_WINDOW: Duration = Duration::from_secs(2);
/// After a decrease, further throttled answers do not decrease again for this long.
pub const COOL_DOWN: Duration = Duration::from_millis(500);
/// The rate never goes below this many bytes per second.
pub const MIN_RATE: f64 = 32.0 * 1024.0;
/// Clean calls for this long after a decrease's cool-down make the rate
/// grow faster and faster (see [`Pace::observe`]).
pub const PROBE_AFTER: Duration = Duration::from_secs(2);
/// While paced, a call carries at most this many seconds of the rate.
pub const CALL_SECONDS: f64 = 0.5;

/// Pacing of one delivery stream's calls. Cheap to share (`Arc`).
#[derive(Debug)]
pub struct Pace {
    max_in_flight: usize,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Calls allowed in flight (at least 1).
    window: f64,
    /// Bytes per second; `None` until the first throttled answer.
    rate: Option<f64>,
    /// Rate added per second of clean calls, set at each decrease.
    step: f64,
    /// When the rate last grew (or shrank).
    grown_at: Option<Instant>,
    /// The earliest start of the next call.
    next: Option<Instant>,
    cool_until: Option<Instant>,
    /// Accepted bytes of recent calls, oldest first.
    meter: VecDeque<(Instant, u64)>,
    /// When the first call was answered (the meter's reach before it is full).
    metering_since: Option<Instant>,
    throttled: u64,
}

/// What a [`Pace`] has learned, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceState {
    pub window: usize,
    /// Bytes per second; `None`: not paced.
    pub rate: Option<f64>,
    /// Throttled answers seen.
    pub throttled: u64,
}

impl Pace {
    /// Unpaced, with up to `max_in_flight` calls at once.
    pub fn new(max_in_flight: usize) -> Self {
        let max_in_flight = max_in_flight.max(1);
        Pace {
            max_in_flight,
            state: Mutex::new(State {
                window: max_in_flight as f64,
                rate: None,
                step: 0.0,
                grown_at: None,
                next: None,
                cool_until: None,
                meter: VecDeque::new(),
                metering_since: None,
                throttled: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent whatever a panicking holder did.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Calls that may be in flight now.
    pub fn window(&self) -> usize {
        (self.lock().window as usize).clamp(1, self.max_in_flight)
    }

    /// The most bytes one call may carry now; `None` while unpaced.
    pub fn call_limit(&self) -> Option<usize> {
        self.lock().rate.map(|r| (r * CALL_SECONDS) as usize)
    }

    /// Waits until a call of `bytes` may start (at once while unpaced).
    pub async fn turn(&self, bytes: usize) {
        let start = {
            let mut s = self.lock();
            let Some(rate) = s.rate else { return };
            let now = Instant::now();
            let start = s.next.map_or(now, |n| n.max(now));
            let jitter = 0.9 + fastrand::f64() * 0.2;
            let spacing = Duration::from_secs_f64(bytes as f64 / rate * jitter);
            s.next = Some(start + spacing);
            start
        };
        tokio::time::sleep_until(start).await;
    }

    /// Takes in how a call went: `accepted` bytes went in, and whether any
    /// part of it was refused for throttling.
    pub fn observe(&self, accepted: u64, throttled: bool) {
        let now = Instant::now();
        let mut s = self.lock();
        s.metering_since.get_or_insert(now);
        s.meter.push_back((now, accepted));
        while s
            .meter
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > METER_WINDOW)
        {
            s.meter.pop_front();
        }
        if !throttled {
            s.window = (s.window + 1.0 / s.window).min(self.max_in_flight as f64);
            if s.rate.is_some() {
                let since = s.grown_at.map_or(Duration::ZERO, |t| now - t);
                // Probing: the longer the stream has taken everything since
                // the last decrease, the faster the rate grows (the step
                // doubles for every second past PROBE_AFTER, up to 8x), so
                // that an instance left alone on a stream soon uses it all.
                let calm = s
                    .cool_until
                    .map_or(Duration::ZERO, |t| now.saturating_duration_since(t));
                let boost = 2f64
                    .powf(calm.saturating_sub(PROBE_AFTER).as_secs_f64())
                    .min(8.0);
                let grow = s.step * boost * since.min(Duration::from_secs(1)).as_secs_f64();
                s.rate = s.rate.map(|r| r + grow);
                s.grown_at = Some(now);
            }
            return;
        }
        s.throttled += 1;
        if s.cool_until.is_some_and(|t| now < t) {
            return;
        }
        s.cool_until = Some(now + COOL_DOWN);
        s.window = (s.window / 2.0).max(1.0);
        // What the stream took recently; the meter's reach is the whole
        // window once it has run that long, and never less than a second
        // (the quota's own period).
        let since = s.metering_since.map_or(Duration::ZERO, |t| now - t);
        let reach = since.clamp(Duration::from_secs(1), METER_WINDOW);
        let took: u64 = s.meter.iter().map(|(_, b)| b).sum();
        let measured = took as f64 / reach.as_secs_f64();
        let base = s.rate.unwrap_or(measured);
        let rate = (base * 0.7).max(MIN_RATE);
        s.rate = Some(rate);
        s.step = (rate / 8.0).max(1024.0);
        s.grown_at = Some(now);
    }

    /// What it has learned so far.
    pub fn state(&self) -> PaceState {
        let s = self.lock();
        PaceState {
            window: (s.window as usize).clamp(1, self.max_in_flight),
            rate: s.rate,
            throttled: s.throttled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn unpaced_until_the_first_throttle() {
        let pace = Pace::new(4);
        let t0 = Instant::now();
        for _ in 0..10 {
            pace.turn(4 << 20).await;
            pace.observe(4 << 20, false);
        }
        assert_eq!(Instant::now(), t0, "no call waited");
        assert_eq!(pace.state().window, 4);
        assert_eq!(pace.state().rate, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttle_halves_the_window_and_paces_below_what_was_accepted() {
        let pace = Pace::new(8);
        // One MiB accepted per 250 ms for two seconds: 4 MiB/s.
        for _ in 0..8 {
            pace.observe(1 << 20, false);
            tokio::time::advance(Duration::from_millis(250)).await;
        }
        pace.observe(0, true);
        let s = pace.state();
        assert_eq!(s.window, 4);
        let rate = s.rate.expect("paced");
        let mib = 1024.0 * 1024.0;
        // The meter holds the calls of the last two seconds (7 or 8 MiB).
        assert!(rate > 0.7 * 3.4 * mib && rate < 0.7 * 4.1 * mib, "{rate}");
        // Calls now start spaced by their bytes at that rate.
        let t0 = Instant::now();
        for _ in 0..5 {
            pace.turn(1 << 20).await;
        }
        let waited = (Instant::now() - t0).as_secs_f64();
        let want = 4.0 * mib / rate; // the first starts at once
        assert!(
            waited > want * 0.85 && waited < want * 1.15,
            "{waited} s, want about {want} s"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn one_burst_of_throttles_decreases_once_and_clean_calls_climb_back() {
        let pace = Pace::new(8);
        for _ in 0..4 {
            pace.observe(1 << 20, false);
            tokio::time::advance(Duration::from_millis(500)).await;
        }
        for _ in 0..6 {
            pace.observe(0, true);
        }
        let after = pace.state();
        assert_eq!(after.window, 4, "one decrease for one burst");
        assert_eq!(after.throttled, 6);
        let rate = after.rate.unwrap();
        // Clean calls for two seconds: the rate grows by 1/8 a second.
        for _ in 0..20 {
            tokio::time::advance(Duration::from_millis(100)).await;
            pace.observe(1 << 16, false);
        }
        let climbed = pace.state();
        assert!(climbed.window > after.window);
        let want = rate * (1.0 + 2.0 / 8.0);
        assert!(
            (climbed.rate.unwrap() - want).abs() < 1.0,
            "two seconds of clean calls: {} -> {}, want {want}",
            rate,
            climbed.rate.unwrap()
        );
        // A throttle after the cool-down decreases again, from the rate.
        tokio::time::advance(COOL_DOWN).await;
        pace.observe(0, true);
        let again = pace.state().rate.unwrap();
        assert!((again - 0.7 * climbed.rate.unwrap()).abs() < 1.0);
        assert_eq!(pace.call_limit(), Some((again * CALL_SECONDS) as usize));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_has_a_floor_and_the_window_never_closes() {
        let pace = Pace::new(2);
        for _ in 0..20 {
            pace.observe(0, true);
            tokio::time::advance(COOL_DOWN).await;
        }
        let s = pace.state();
        assert_eq!(s.window, 1);
        assert_eq!(s.rate, Some(MIN_RATE));
    }
}
