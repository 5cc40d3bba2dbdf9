//! The team's severity: names, and what a CVSS vector says.

use super::model::Cvss;

/// The severities a team assigns, most urgent first.
pub const NAMES: [&str; 5] = ["critical", "high", "medium", "low", "none"];

/// A severity name in its canonical form ("Moderate" → medium).
pub fn normalise(s: &str) -> Option<&'static str> {
    let k = s.trim().to_ascii_lowercase();
    let k = match k.as_str() {
        "moderate" => "medium",
        "informational" | "info" => "none",
        "crit" => "critical",
        "med" => "medium",
        other => other,
    };
    NAMES.iter().copied().find(|n| *n == k)
}

/// The qualitative rating of a CVSS score (the same bands in 3.1 and 4.0).
pub fn from_score(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

/// Score a CVSS 3.x or 4.0 vector ("CVSS:3.1/AV:N/…", "CVSS:4.0/AV:N/…").
pub fn parse_vector(v: &str) -> Result<Cvss, String> {
    let v = v.trim();
    let upper = v.to_ascii_uppercase();
    if !upper.starts_with("CVSS:3.0/") && !upper.starts_with("CVSS:3.1/") && !upper.starts_with("CVSS:4.0/") {
        return Err(format!("{v:?} is not a CVSS 3.1 or 4.0 vector (it must start with CVSS:3.1/ or CVSS:4.0/)"));
    }
    let parsed = upper.parse::<cvss::Cvss>().map_err(|e| format!("invalid CVSS vector {v:?}: {e}"))?;
    Ok(Cvss { version: upper[5..8].to_string(), vector: upper.clone(), score: (parsed.score() * 10.0).round() / 10.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_scored_and_rated() {
        let c = parse_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!((c.version.as_str(), c.score, from_score(c.score)), ("3.1", 9.8, "critical"));
        let c = parse_vector("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N").unwrap();
        assert_eq!((c.version.as_str(), from_score(c.score)), ("4.0", "critical"));
        assert!(parse_vector("AV:N/AC:L").is_err());
        assert!(parse_vector("CVSS:3.1/AV:X").is_err());
        assert_eq!(normalise("Moderate"), Some("medium"));
        assert_eq!(from_score(5.3), "medium");
    }
}
