//! The tool's own retry and rate-limit policy (DESIGN §6.6, §11.15), as a pure decision so it
//! can be tested without a server. The GitHub adapter asks `decide` after each attempt.
//!
//! - A request refused for rate limiting was not processed: it may be sent again, even a
//!   dispatch, after the wait GitHub names (`retry-after`, else `x-ratelimit-reset`).
//! - A read that failed with a 5xx or a timeout is retried with exponential backoff.
//! - A write that failed that way is never re-sent here: the caller learns what happened
//!   (reads the ref back) or reports that the dispatch may or may not have started.
//!
//! Every wait counts against one budget (`--max-wait`, default 5 minutes) for the whole
//! invocation; past it the caller gets a clear error instead of waiting longer.

use std::time::Duration;

/// How an attempt ended, as far as the policy cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// An answer that is final (2xx, 4xx other than rate limits).
    Answer,
    /// 5xx answer.
    ServerError,
    /// No answer: connection failure or timeout.
    NoAnswer,
    /// 403/429 rate limit; `wait` is what the server asked for.
    RateLimited { wait: Duration },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Hand the outcome to the caller.
    Stop,
    /// Sleep this long, then send the same request again.
    Retry(Duration),
    /// Would wait, but the budget is spent: fail with this reason.
    OutOfBudget { wanted: Duration },
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Total of all waits in one invocation.
    pub max_wait: Duration,
    /// Attempts of one read on 5xx/timeouts (first try included).
    pub read_attempts: u32,
    /// First backoff; doubled after each failed attempt.
    pub backoff: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_wait: Duration::from_secs(300),
            read_attempts: 4,
            backoff: Duration::from_millis(500),
        }
    }
}

/// `number` is the 1-based attempt that just ended, `waited` the total already waited in this
/// invocation, `read` whether the request is safe to send twice.
pub fn decide(
    policy: &Policy,
    attempt: &Attempt,
    number: u32,
    waited: Duration,
    read: bool,
) -> Decision {
    let budget_left = policy.max_wait.saturating_sub(waited);
    let wait = match attempt {
        Attempt::Answer => return Decision::Stop,
        Attempt::RateLimited { wait } => *wait,
        Attempt::ServerError | Attempt::NoAnswer => {
            if !read || number >= policy.read_attempts {
                return Decision::Stop;
            }
            policy.backoff.saturating_mul(1 << (number - 1).min(16))
        }
    };
    if wait > budget_left {
        match attempt {
            Attempt::RateLimited { .. } => Decision::OutOfBudget { wanted: wait },
            // A backoff that does not fit: give the caller the last answer.
            _ => Decision::Stop,
        }
    } else {
        Decision::Retry(wait)
    }
}

/// The wait a rate-limit answer asks for (GitHub's documented rules): `retry-after` seconds if
/// given; else, with `x-ratelimit-remaining: 0`, until `x-ratelimit-reset` (epoch seconds);
/// else (a secondary limit without headers) one minute. `None` when it is not a rate limit.
pub fn rate_limit_wait(
    status: u16,
    retry_after: Option<&str>,
    remaining: Option<&str>,
    reset: Option<&str>,
    now_epoch: i64,
    message: &str,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(secs) = retry_after.and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs));
    }
    if remaining.map(str::trim) == Some("0") {
        let reset = reset
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(now_epoch);
        // One second more: the reset time is rounded down to the second.
        return Some(Duration::from_secs((reset - now_epoch).max(0) as u64 + 1));
    }
    let m = message.to_ascii_lowercase();
    if status == 429 || m.contains("rate limit") {
        return Some(Duration::from_secs(60));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Policy {
        Policy {
            max_wait: Duration::from_secs(10),
            read_attempts: 3,
            backoff: Duration::from_millis(100),
        }
    }

    #[test]
    fn reads_back_off_and_stop_after_the_last_attempt() {
        let z = Duration::ZERO;
        assert_eq!(
            decide(&p(), &Attempt::ServerError, 1, z, true),
            Decision::Retry(Duration::from_millis(100))
        );
        assert_eq!(
            decide(&p(), &Attempt::NoAnswer, 2, z, true),
            Decision::Retry(Duration::from_millis(200))
        );
        assert_eq!(
            decide(&p(), &Attempt::ServerError, 3, z, true),
            Decision::Stop
        );
    }

    #[test]
    fn writes_are_never_retried_on_ambiguous_failures() {
        let z = Duration::ZERO;
        assert_eq!(
            decide(&p(), &Attempt::ServerError, 1, z, false),
            Decision::Stop
        );
        assert_eq!(
            decide(&p(), &Attempt::NoAnswer, 1, z, false),
            Decision::Stop
        );
    }

    #[test]
    fn rate_limits_are_waited_out_within_the_budget_even_for_writes() {
        let wait = Duration::from_secs(3);
        let a = Attempt::RateLimited { wait };
        assert_eq!(
            decide(&p(), &a, 1, Duration::ZERO, false),
            Decision::Retry(wait)
        );
        assert_eq!(
            decide(&p(), &a, 5, Duration::from_secs(8), true),
            Decision::OutOfBudget { wanted: wait }
        );
    }

    #[test]
    fn rate_limit_headers() {
        assert_eq!(
            rate_limit_wait(403, Some("7"), None, None, 0, ""),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(403, None, Some("0"), Some("110"), 100, ""),
            Some(Duration::from_secs(11))
        );
        assert_eq!(
            rate_limit_wait(429, None, None, None, 0, ""),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            rate_limit_wait(
                403,
                None,
                Some("4999"),
                None,
                0,
                "Resource not accessible by integration"
            ),
            None
        );
        assert_eq!(rate_limit_wait(500, Some("1"), None, None, 0, ""), None);
    }
}
