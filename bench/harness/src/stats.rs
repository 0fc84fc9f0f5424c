//! Percentiles of latency samples (nearest rank, no interpolation: every figure reported is a
//! sample that was actually observed).

use std::time::Duration;

/// A distribution of samples, in microseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// The sample at percentile `p` (0 < p ≤ 100) of `sorted`, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts `samples` and summarizes them.
pub fn summarize(samples: &mut [f64]) -> Summary {
    samples.sort_by(|a, b| a.total_cmp(b));
    let n = samples.len();
    let mean = if n == 0 {
        f64::NAN
    } else {
        samples.iter().sum::<f64>() / n as f64
    };
    Summary {
        n,
        min: samples.first().copied().unwrap_or(f64::NAN),
        p50: percentile(samples, 50.0),
        p90: percentile(samples, 90.0),
        p99: percentile(samples, 99.0),
        max: samples.last().copied().unwrap_or(f64::NAN),
        mean,
    }
}

/// A duration in microseconds.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

impl Summary {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "n": self.n, "min_us": round(self.min), "p50_us": round(self.p50),
            "p90_us": round(self.p90), "p99_us": round(self.p99), "max_us": round(self.max),
            "mean_us": round(self.mean),
        })
    }
}

/// One decimal is all a microsecond figure on a shared machine can carry.
pub fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_samples() {
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = summarize(&mut v);
        assert_eq!(
            (s.min, s.p50, s.p90, s.p99, s.max),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(s.mean, 50.5);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), 2.0);
    }

    #[test]
    fn an_empty_set_has_no_percentiles() {
        assert!(summarize(&mut []).p50.is_nan());
    }
}
