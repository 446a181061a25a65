//! Triage at intake: petition type (建议意见 / 检举控告 / 申诉求决 / 咨询), urgency, safety and
//! self-harm alerts for the supervisor, and an emotional-intensity score, from a lexicon that
//! admins edit.
//!
//! The [`Lexicon`] is plain data (JSON through serde, or CSV `term,kind,value,weight`) so the
//! store can keep an organisation's version and an admin can edit it; [`Lexicon::builtin`] is the
//! default compiled into the binary (`src/triage_lexicon.csv`). [`Triage::new`] compiles a lexicon
//! into one Aho–Corasick automaton; [`Triage::assess`] then reads a text in one pass.
//!
//! Rules, chosen to be cheap and predictable rather than clever:
//! - text and terms are normalised alike (full-width to half-width, lower case), so `！` is `!`;
//! - every occurrence of every term counts (overlapping too: 强烈要求 feeds 强烈 and 要求), at most
//!   twice per term, except inside a `neutral` phrase (跳楼价, 拨打人工, 消防通道), which is how a
//!   false friend is silenced;
//! - a cue preceded in its clause, within four characters, by a negation (不 没 未 非 无 别 勿 莫)
//!   does not count — except an alert: "不是要自杀" still alerts, marked `negated`, because a
//!   supervisor reading a false alarm costs less than a missed one;
//! - petition-type cues in the opening (the title, first 40 characters) count double; question
//!   marks are a weak 咨询 cue; no type is suggested below a total weight of 1;
//! - a fire or explosion word after 一旦, 如果, 防止, 隐患… in its clause (within ten characters)
//!   is a risk, not an event: it alerts as 安全事故 (紧急) instead of 火灾爆炸 (特急);
//! - urgency is the highest of: each alert's category level, urgency cues, and `urgent` when the
//!   emotional intensity reaches 0.85;
//! - intensity is `1 - exp(-raw / 4)` where `raw` sums emotion cues, alerts (1.5 each), and
//!   punctuation: each `!` 0.3 (at most 3), each run of two or more `!`/`?` 0.8, each run of three
//!   equal characters (啊啊啊) 0.5.

use crate::segment::normalise;
use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use xinfang_core::matter::{PetitionType, Urgency};

/// The kinds of danger that alert the supervisor at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertCategory {
    /// 自伤: suicide or self-harm.
    SelfHarm,
    /// 暴力: violence against others.
    Violence,
    /// 火灾爆炸: fire and explosion.
    FireExplosion,
    /// 群体聚集: gatherings, blockades, group visits.
    GroupGathering,
    /// 安全事故: gas leaks, collapses, people trapped, poisoning.
    SafetyHazard,
}

impl AlertCategory {
    /// Every category.
    pub const ALL: &'static [Self] = &[
        Self::SelfHarm,
        Self::Violence,
        Self::FireExplosion,
        Self::GroupGathering,
        Self::SafetyHazard,
    ];

    /// The stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::SelfHarm => "self_harm",
            Self::Violence => "violence",
            Self::FireExplosion => "fire_explosion",
            Self::GroupGathering => "group_gathering",
            Self::SafetyHazard => "safety_hazard",
        }
    }

    /// Parses a machine code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// The Simplified Chinese name shown to users.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::SelfHarm => "自伤",
            Self::Violence => "暴力",
            Self::FireExplosion => "火灾爆炸",
            Self::GroupGathering => "群体聚集",
            Self::SafetyHazard => "安全事故",
        }
    }

    /// The urgency a matter with this alert has at least: a life at stake is 特急, a gathering or
    /// a hazard 紧急.
    pub fn urgency(self) -> Urgency {
        match self {
            Self::SelfHarm | Self::Violence | Self::FireExplosion => Urgency::Critical,
            Self::GroupGathering | Self::SafetyHazard => Urgency::Urgent,
        }
    }
}

/// What a lexicon term signals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cue {
    /// Evidence for a petition type.
    PetitionType {
        /// The type.
        petition_type: PetitionType,
        /// How much one occurrence counts.
        weight: f32,
    },
    /// The matter is at least this urgent.
    Urgency {
        /// The level.
        urgency: Urgency,
    },
    /// Alert the supervisor at once.
    Alert {
        /// The danger.
        category: AlertCategory,
    },
    /// Emotional intensity.
    Emotion {
        /// How much one occurrence counts.
        weight: f32,
    },
    /// A phrase that contains cue words but means none of them (跳楼价, 消防通道): matches
    /// inside it are ignored.
    Neutral,
}

/// One lexicon line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The word or phrase as written in petitions.
    pub term: String,
    /// What it signals.
    #[serde(flatten)]
    pub cue: Cue,
}

/// The editable triage lexicon.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Lexicon {
    /// The lines; a term may appear on several lines with different cues.
    pub entries: Vec<Entry>,
}

/// Why a lexicon is not usable.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    /// A line is wrong (1-based, the header is line 1 in CSV; entry number in JSON).
    #[error("词表第 {line} 行有误 / lexicon line {line}: {reason}")]
    Line {
        /// Where.
        line: usize,
        /// What.
        reason: String,
    },
    /// The CSV cannot be read.
    #[error("词表 CSV 无法读取 / unreadable lexicon CSV: {0}")]
    Csv(#[from] csv::Error),
    /// The JSON cannot be read.
    #[error("词表 JSON 无法读取 / unreadable lexicon JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The automaton could not be built (far more or longer terms than a lexicon has).
    #[error("词表过大 / lexicon too large: {0}")]
    Build(#[from] aho_corasick::BuildError),
}

const BUILTIN_CSV: &str = include_str!("triage_lexicon.csv");

impl Lexicon {
    /// The default lexicon compiled into the binary.
    pub fn builtin() -> Lexicon {
        BUILTIN.lexicon.clone()
    }

    /// Reads CSV with the header `term,kind,value,weight`: `kind` is `petition_type` (value a
    /// petition-type code, weight > 0), `urgency` (value `urgent` or `critical`), `alert`
    /// (value a category code), `emotion` (weight > 0) or `neutral`.
    pub fn from_csv(text: &str) -> Result<Lexicon, LexiconError> {
        let mut r = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut entries = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let rec = rec?;
            let line = i + 2;
            let field = |n: usize| rec.get(n).unwrap_or("");
            let bad = |reason: String| LexiconError::Line { line, reason };
            let weight = || -> Result<f32, LexiconError> {
                let w: f32 = field(3)
                    .parse()
                    .map_err(|_| bad(format!("weight `{}` is not a number", field(3))))?;
                if w.is_finite() && w > 0.0 {
                    Ok(w)
                } else {
                    Err(bad(format!("weight {w} must be positive")))
                }
            };
            // Here rather than only in `check`, which counts entries, not CSV lines.
            if normalise(field(0)).is_empty() {
                return Err(bad("empty term".to_string()));
            }
            let value = field(2);
            let cue = match field(1) {
                "petition_type" => Cue::PetitionType {
                    petition_type: PetitionType::parse(value)
                        .ok_or_else(|| bad(format!("unknown petition type `{value}`")))?,
                    weight: weight()?,
                },
                "urgency" => Cue::Urgency {
                    urgency: Urgency::parse(value)
                        .ok_or_else(|| bad(format!("unknown urgency `{value}`")))?,
                },
                "alert" => Cue::Alert {
                    category: AlertCategory::parse(value)
                        .ok_or_else(|| bad(format!("unknown alert category `{value}`")))?,
                },
                "emotion" => Cue::Emotion { weight: weight()? },
                "neutral" => Cue::Neutral,
                other => return Err(bad(format!("unknown kind `{other}`"))),
            };
            entries.push(Entry {
                term: field(0).to_string(),
                cue,
            });
        }
        let lexicon = Lexicon { entries };
        lexicon.check()?;
        Ok(lexicon)
    }

    /// Writes the CSV that [`Lexicon::from_csv`] reads.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to a Vec cannot fail; a failed record would only shorten the export.
        let _ = w.write_record(["term", "kind", "value", "weight"]);
        for e in &self.entries {
            let (kind, value, weight) = match &e.cue {
                Cue::PetitionType {
                    petition_type,
                    weight,
                } => ("petition_type", petition_type.code(), weight.to_string()),
                Cue::Urgency { urgency } => ("urgency", urgency.code(), String::new()),
                Cue::Alert { category } => ("alert", category.code(), String::new()),
                Cue::Emotion { weight } => ("emotion", "", weight.to_string()),
                Cue::Neutral => ("neutral", "", String::new()),
            };
            let _ = w.write_record([e.term.as_str(), kind, value, &weight]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Reads the JSON form (`{"entries":[{"term":"举报","kind":"petition_type",...}]}`).
    pub fn from_json(text: &str) -> Result<Lexicon, LexiconError> {
        let lexicon: Lexicon = serde_json::from_str(text)?;
        lexicon.check()?;
        Ok(lexicon)
    }

    /// Rejects empty terms and weights that are not positive numbers.
    fn check(&self) -> Result<(), LexiconError> {
        for (i, e) in self.entries.iter().enumerate() {
            let bad = |reason: &str| LexiconError::Line {
                line: i + 1,
                reason: reason.to_string(),
            };
            if normalise(e.term.trim()).is_empty() {
                return Err(bad("empty term"));
            }
            if let Cue::PetitionType { weight, .. } | Cue::Emotion { weight } = e.cue
                && !(weight.is_finite() && weight > 0.0)
            {
                return Err(bad("weight must be positive"));
            }
        }
        Ok(())
    }
}

/// A matched piece of text and what it counted for. Offsets are bytes of the text given to
/// [`Triage::assess`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The text as written (or the punctuation run).
    pub text: String,
    /// Its weight in the score it fed.
    pub weight: f32,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

/// A safety or self-harm word found in the text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The lexicon term.
    pub term: String,
    /// The danger.
    pub category: AlertCategory,
    /// Start byte in the text.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// A negation stood just before it ("不是要自杀"); it alerts all the same.
    pub negated: bool,
}

/// The suggested petition type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeSuggestion {
    /// The type.
    pub petition_type: PetitionType,
    /// Its share of all petition-type weight found (0–1): how clearly the text is of this type.
    pub confidence: f32,
    /// The weight of each type, in [`PetitionType::ALL`] order.
    pub scores: [f32; 4],
    /// The cues of the suggested type.
    pub evidence: Vec<Evidence>,
}

/// What triage makes of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The suggested type, `None` when the text gives too little to go on.
    pub petition_type: Option<TypeSuggestion>,
    /// How fast the matter must move.
    pub urgency: Urgency,
    /// Why it is more than normal.
    pub urgency_reasons: Vec<String>,
    /// Safety and self-harm words, in text order.
    pub alerts: Vec<Alert>,
    /// 0 (calm) to 1 (extreme).
    pub emotional_intensity: f32,
    /// What raised it.
    pub emotion_evidence: Vec<Evidence>,
}

impl Assessment {
    /// Whether the supervisor must be alerted now.
    pub fn alerts_supervisor(&self) -> bool {
        !self.alerts.is_empty()
    }
}

/// A compiled lexicon.
#[derive(Debug, Clone)]
pub struct Triage {
    lexicon: Lexicon,
    matcher: AhoCorasick,
    /// The cues of each distinct normalised term, by pattern id.
    cues: Vec<(String, Vec<Cue>)>,
}

static BUILTIN: LazyLock<Triage> = LazyLock::new(|| {
    // The built-in CSV is a compile-time constant that a test parses and compiles, so this
    // cannot fail in a released build.
    let lexicon = Lexicon::from_csv(BUILTIN_CSV).expect("built-in triage lexicon is valid (tested)");
    Triage::new(lexicon).expect("built-in triage lexicon compiles (tested)")
});

const NEGATIONS: &[char] = &['不', '没', '未', '非', '无', '别', '勿', '莫'];
const CLAUSE_ENDS: &[char] = &[
    '，', ',', '。', '.', '！', '!', '？', '?', '；', ';', '：', ':', '\n',
];
const OPENING_CHARS: usize = 40;
const MIN_TYPE_WEIGHT: f32 = 1.0;
const MAX_PER_TERM: usize = 2;

/// [`normalise`] one character for one character (a lower case that would be two characters
/// stays as it is), so byte offsets map back to the original text.
fn normalise_char(c: char) -> char {
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => crate::segment::simplified_char(c),
    };
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if crate::segment::CJK.contains(&(c as u32)) {
        return c;
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

/// Words that make a fire or explosion a risk rather than an event ("一旦发生火灾").
const HYPOTHETICAL: &[&str] = &[
    "一旦", "万一", "如果", "假如", "若", "防止", "以防", "避免", "隐患", "容易", "可能",
];

impl Triage {
    /// Compiles a lexicon.
    pub fn new(lexicon: Lexicon) -> Result<Triage, LexiconError> {
        lexicon.check()?;
        let mut cues: Vec<(String, Vec<Cue>)> = Vec::new();
        for e in &lexicon.entries {
            let term: String = e.term.trim().chars().map(normalise_char).collect();
            match cues.iter_mut().find(|(t, _)| *t == term) {
                Some((_, list)) => list.push(e.cue.clone()),
                None => cues.push((term, vec![e.cue.clone()])),
            }
        }
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(cues.iter().map(|(t, _)| t.as_str()))?;
        Ok(Triage {
            lexicon,
            matcher,
            cues,
        })
    }

    /// The default lexicon, compiled once (on first use, or by [`warm_up`]).
    pub fn builtin() -> &'static Triage {
        &BUILTIN
    }

    /// The lexicon this was compiled from.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Reads `text` (title and content) and says what it is, how urgent, whom to alert.
    pub fn assess(&self, text: &str) -> Assessment {
        // Normalised copy with the original byte offset of every character.
        let mut norm = String::with_capacity(text.len());
        let mut orig_at: Vec<usize> = Vec::with_capacity(text.len() + 1);
        let mut chars: Vec<char> = Vec::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            let n = normalise_char(c);
            for _ in 0..n.len_utf8() {
                orig_at.push(at);
            }
            norm.push(n);
            chars.push(n);
        }
        orig_at.push(text.len());
        // Character index of each byte of `norm`, for the negation window and the opening.
        let mut char_of: Vec<usize> = Vec::with_capacity(norm.len() + 1);
        for (i, c) in chars.iter().enumerate() {
            char_of.extend(std::iter::repeat_n(i, c.len_utf8()));
        }
        char_of.push(chars.len());
        let mut byte_at: Vec<usize> = Vec::with_capacity(chars.len() + 1);
        let mut b = 0;
        for c in &chars {
            byte_at.push(b);
            b += c.len_utf8();
        }
        byte_at.push(b);

        let matches: Vec<(usize, usize, usize)> = self
            .matcher
            .find_overlapping_iter(&norm)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        let neutral: Vec<(usize, usize)> = matches
            .iter()
            .filter(|(p, _, _)| self.cues[*p].1.iter().any(|c| matches!(c, Cue::Neutral)))
            .map(|(_, s, e)| (*s, *e))
            .collect();
        let negated = |start: usize| {
            let ci = char_of[start];
            chars[ci.saturating_sub(4)..ci]
                .iter()
                .rev()
                .take_while(|c| !CLAUSE_ENDS.contains(c))
                .any(|c| NEGATIONS.contains(c))
        };

        let hypothetical = |start: usize| {
            let ci = char_of[start];
            let clause: String = chars[ci.saturating_sub(10)..ci]
                .iter()
                .rev()
                .take_while(|c| !CLAUSE_ENDS.contains(c))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            HYPOTHETICAL.iter().any(|h| clause.contains(h))
        };
        let mut type_scores = [0f32; 4];
        let mut type_evidence: [Vec<Evidence>; 4] = Default::default();
        let mut urgency = Urgency::Normal;
        let mut urgency_reasons = Vec::new();
        let mut alerts = Vec::new();
        let mut raw = 0f32;
        let mut emotion_evidence = Vec::new();
        let mut seen = vec![0usize; self.cues.len()];

        for &(p, s, e) in &matches {
            let (term, cues) = &self.cues[p];
            if cues.iter().all(|c| matches!(c, Cue::Neutral)) {
                continue;
            }
            if neutral
                .iter()
                .any(|&(ns, ne)| ns <= s && e <= ne && (ns, ne) != (s, e))
            {
                continue;
            }
            seen[p] += 1;
            if seen[p] > MAX_PER_TERM {
                continue;
            }
            let (os, oe) = (orig_at[s], orig_at[e]);
            let neg = negated(s);
            let evidence = |weight: f32| Evidence {
                text: text[os..oe].to_string(),
                weight,
                start: os,
                end: oe,
            };
            for cue in cues {
                match cue {
                    Cue::Alert { category } => {
                        let category = if *category == AlertCategory::FireExplosion && hypothetical(s) {
                            AlertCategory::SafetyHazard
                        } else {
                            *category
                        };
                        alerts.push(Alert {
                            term: term.clone(),
                            category,
                            start: os,
                            end: oe,
                            negated: neg,
                        });
                        raw += 1.5;
                        emotion_evidence.push(evidence(1.5));
                        if category.urgency() > urgency {
                            urgency = category.urgency();
                        }
                        urgency_reasons.push(format!("{}：{}", category.label_zh(), &text[os..oe]));
                    }
                    _ if neg => {}
                    Cue::PetitionType {
                        petition_type,
                        weight,
                    } => {
                        let k = PetitionType::ALL
                            .iter()
                            .position(|t| t == petition_type)
                            .unwrap_or(0);
                        let w = if char_of[s] < OPENING_CHARS {
                            weight * 2.0
                        } else {
                            *weight
                        };
                        type_scores[k] += w;
                        type_evidence[k].push(evidence(w));
                    }
                    Cue::Urgency { urgency: level } => {
                        if *level > urgency {
                            urgency = *level;
                        }
                        urgency_reasons.push(format!("{}：{}", level.label_zh(), &text[os..oe]));
                    }
                    Cue::Emotion { weight } => {
                        raw += weight;
                        emotion_evidence.push(evidence(*weight));
                    }
                    Cue::Neutral => {}
                }
            }
        }

        // Punctuation and repetition.
        let inquiry = PetitionType::ALL
            .iter()
            .position(|t| *t == PetitionType::Inquiry)
            .unwrap_or(3);
        let (mut bangs, mut questions) = (0usize, 0usize);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let run = chars[i..].iter().take_while(|x| **x == c).count();
            let span = |len: usize| (orig_at[byte_at[i]], orig_at[byte_at[i + len]]);
            if c == '!' || c == '?' {
                let mut len = run;
                while i + len < chars.len() && matches!(chars[i + len], '!' | '?') {
                    len += 1;
                }
                let (os, oe) = span(len);
                if c == '!' || chars[i..i + len].contains(&'!') {
                    bangs += chars[i..i + len].iter().filter(|x| **x == '!').count();
                }
                if chars[i..i + len].contains(&'?') && questions < 3 {
                    questions += 1;
                    type_scores[inquiry] += 0.5;
                    type_evidence[inquiry].push(Evidence {
                        text: text[os..oe].to_string(),
                        weight: 0.5,
                        start: os,
                        end: oe,
                    });
                }
                if len >= 2 {
                    raw += 0.8;
                    emotion_evidence.push(Evidence {
                        text: text[os..oe].to_string(),
                        weight: 0.8,
                        start: os,
                        end: oe,
                    });
                }
                i += len;
                continue;
            }
            if run >= 3 && c.is_alphabetic() {
                let (os, oe) = span(run);
                raw += 0.5;
                emotion_evidence.push(Evidence {
                    text: text[os..oe].to_string(),
                    weight: 0.5,
                    start: os,
                    end: oe,
                });
            }
            i += run;
        }
        raw += 0.3 * bangs.min(3) as f32;

        let emotional_intensity = 1.0 - (-raw / 4.0).exp();
        if emotional_intensity >= 0.85 && urgency < Urgency::Urgent {
            urgency = Urgency::Urgent;
            urgency_reasons.push(format!("情绪激烈（{emotional_intensity:.2}）"));
        }

        let total: f32 = type_scores.iter().sum();
        let best = (0..4)
            .max_by(|a, b| type_scores[*a].total_cmp(&type_scores[*b]))
            .unwrap_or(0);
        let petition_type = (type_scores[best] >= MIN_TYPE_WEIGHT).then(|| TypeSuggestion {
            petition_type: PetitionType::ALL[best],
            confidence: type_scores[best] / total,
            scores: type_scores,
            evidence: std::mem::take(&mut type_evidence[best]),
        });
        Assessment {
            petition_type,
            urgency,
            urgency_reasons,
            alerts,
            emotional_intensity,
            emotion_evidence,
        }
    }
}

/// Compiles the built-in lexicon now (at server start) rather than on the first petition.
pub fn warm_up() {
    LazyLock::force(&BUILTIN);
}

/// [`Triage::assess`] with the built-in lexicon.
pub fn assess(text: &str) -> Assessment {
    Triage::builtin().assess(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<PetitionType> {
        assess(text).petition_type.map(|t| t.petition_type)
    }

    fn categories(text: &str) -> Vec<AlertCategory> {
        assess(text).alerts.iter().map(|a| a.category).collect()
    }

    #[test]
    fn builtin_lexicon_parses_compiles_and_round_trips() {
        let lex = Lexicon::from_csv(BUILTIN_CSV).unwrap();
        assert!(lex.entries.len() > 150);
        assert_eq!(Lexicon::from_csv(&lex.to_csv()).unwrap(), lex);
        let json = serde_json::to_string(&lex).unwrap();
        assert!(
            json.contains(r#"{"term":"自杀","kind":"alert","category":"self_harm"}"#),
            "{}",
            &json[..200]
        );
        assert_eq!(Lexicon::from_json(&json).unwrap(), lex);
        for c in AlertCategory::ALL {
            assert!(
                lex.entries.iter().any(|e| e.cue == Cue::Alert { category: *c }),
                "{c:?}"
            );
        }
    }

    #[test]
    fn bad_lexicon_lines_are_reported_by_line() {
        let err = Lexicon::from_csv(
            "term,kind,value,weight\n举报,petition_type,report,2\n乱码,petition_type,nope,1\n",
        )
        .unwrap_err();
        assert!(matches!(err, LexiconError::Line { line: 3, .. }), "{err}");
        let err = Lexicon::from_csv("term,kind,value,weight\n愤怒,emotion,,-1\n").unwrap_err();
        assert!(matches!(err, LexiconError::Line { line: 2, .. }), "{err}");
        assert!(Lexicon::from_csv("term,kind,value,weight\n ,neutral,,\n").is_err());
    }

    #[test]
    fn petition_types() {
        assert_eq!(
            kind("举报A市某街道办工作人员收受好处费，为违建开绿灯，请纪委调查。"),
            Some(PetitionType::Report)
        );
        assert_eq!(
            kind("投诉某公司拖欠我们三个月工资，要求尽快支付欠薪。"),
            Some(PetitionType::Appeal)
        );
        assert_eq!(
            kind("建议在T2航站楼到达层增设母婴室，并优化出租车排队的引导标识。"),
            Some(PetitionType::Suggestion)
        );
        assert_eq!(
            kind("请问新生儿办理医保需要什么材料？在哪里办理？"),
            Some(PetitionType::Inquiry)
        );
        assert_eq!(kind("今天天气不错。"), None);
        // A negated cue does not count: this is an inquiry, not a complaint.
        assert_eq!(
            kind("不是投诉，只是想咨询一下居住证的办理流程。"),
            Some(PetitionType::Inquiry)
        );
        let t = assess("举报A市某街道办工作人员收受好处费").petition_type.unwrap();
        assert_eq!(t.evidence[0].text, "举报");
        assert!(t.confidence > 0.5 && t.confidence <= 1.0);
    }

    #[test]
    fn each_alert_category() {
        assert_eq!(
            categories("再不给我解决，我就从单位楼顶跳楼"),
            vec![AlertCategory::SelfHarm]
        );
        assert_eq!(
            categories("对方持刀威胁我们，还动手打了我父亲"),
            vec![AlertCategory::Violence, AlertCategory::Violence]
        );
        assert_eq!(
            categories("小区配电房昨晚起火，现在还有浓烟"),
            vec![AlertCategory::FireExplosion, AlertCategory::FireExplosion]
        );
        assert_eq!(
            categories("明天上百名业主准备去市政府门口拉横幅"),
            vec![AlertCategory::GroupGathering]
        );
        assert_eq!(
            categories("楼道里闻到很重的煤气泄漏的味道"),
            vec![AlertCategory::SafetyHazard]
        );
        let a = assess("再不给我解决，我就从单位楼顶跳楼");
        assert_eq!(a.urgency, Urgency::Critical);
        assert!(a.alerts_supervisor());
        assert_eq!(assess("明天去市政府门口拉横幅").urgency, Urgency::Urgent);
    }

    #[test]
    fn alert_spans_point_into_the_original_text() {
        let text = "ＡＢＣ小区！！我真的不想活了";
        let a = assess(text);
        assert_eq!(a.alerts.len(), 1);
        assert_eq!(&text[a.alerts[0].start..a.alerts[0].end], "不想活");
    }

    #[test]
    fn negated_safety_words_still_alert_but_false_friends_do_not() {
        let a = assess("我不是要自杀，我只是想讨个说法");
        assert_eq!(a.alerts.len(), 1);
        assert!(a.alerts[0].negated);
        assert_eq!(a.urgency, Urgency::Critical);
        for calm in [
            "消防通道被占用，私家车长期停放",
            "商场打出跳楼价的广告涉嫌虚假宣传",
            "拨打人工客服一直无人接听",
            "深受噪音被困扰多年",
            "火车站出租车不打表",
        ] {
            assert!(
                assess(calm).alerts.is_empty(),
                "{calm}: {:?}",
                assess(calm).alerts
            );
        }
    }

    #[test]
    fn a_fire_risk_is_a_hazard_not_a_fire() {
        assert_eq!(
            categories("电动车在楼道充电，一旦发生火灾后果不堪设想"),
            vec![AlertCategory::SafetyHazard]
        );
        assert_eq!(
            assess("电动车在楼道充电，一旦发生火灾后果不堪设想").urgency,
            Urgency::Urgent
        );
        assert_eq!(
            categories("如果再不解决，我就跳楼"),
            vec![AlertCategory::SelfHarm]
        );
    }

    #[test]
    fn traditional_text_meets_the_simplified_lexicon() {
        assert_eq!(categories("再不解決我就跳樓"), vec![AlertCategory::SelfHarm]);
    }

    #[test]
    fn normalise_char_agrees_with_normalise() {
        for c in ['Ａ', 'ｚ', '！', '？', '\u{3000}', 'M', '机', '機', '樓', 'É'] {
            assert_eq!(normalise_char(c).to_string(), normalise(&c.to_string()), "{c}");
        }
    }

    #[test]
    fn urgency_cues_and_negation() {
        assert_eq!(assess("情况紧急，老人被锁在家中").urgency, Urgency::Urgent);
        assert_eq!(assess("患者有生命危险，急需转院").urgency, Urgency::Critical);
        assert_eq!(assess("这件事不紧急，方便时回复即可").urgency, Urgency::Normal);
        assert_eq!(assess("小区绿化带杂草较多，希望清理").urgency, Urgency::Normal);
    }

    #[test]
    fn intensity_orders_calm_annoyed_angry_desperate() {
        let calm = assess("请问公租房申请需要什么条件？").emotional_intensity;
        let annoyed = assess("物业多次答应维修，至今仍未处理，非常失望。").emotional_intensity;
        let angry = assess("物业不作为，投诉无门！！！忍无可忍，强烈要求严肃处理！").emotional_intensity;
        let desperate = assess(
            "三番五次反映都是踢皮球，欺人太甚！！！再不解决我就去北京上访，找媒体曝光，我已经走投无路，\
             真的活不下去了！！！",
        );
        assert!(calm < 0.05, "{calm}");
        assert!(calm < annoyed && annoyed < angry && angry < desperate.emotional_intensity);
        assert!((0.0..=1.0).contains(&desperate.emotional_intensity));
        assert!(desperate.emotional_intensity > 0.85);
        assert!(desperate.emotion_evidence.iter().any(|e| e.text == "！！！"));
        assert_eq!(desperate.urgency, Urgency::Critical);
        // Intensity alone, without an alert, makes a matter urgent.
        let furious =
            assess("三番五次反映都是踢皮球，欺人太甚！！！再不解决就进京上访，找媒体曝光，忍无可忍！！");
        assert!(furious.alerts.is_empty());
        assert_eq!(
            furious.urgency,
            Urgency::Urgent,
            "{}",
            furious.emotional_intensity
        );
    }

    #[test]
    fn custom_lexicon() {
        let lex = Lexicon::from_csv(
            "term,kind,value,weight\n廊桥,petition_type,suggestion,3\n跑道入侵,alert,safety_hazard,\n",
        )
        .unwrap();
        let t = Triage::new(lex).unwrap();
        let a = t.assess("廊桥太少，发现跑道入侵");
        assert_eq!(a.petition_type.unwrap().petition_type, PetitionType::Suggestion);
        assert_eq!(a.alerts[0].category, AlertCategory::SafetyHazard);
    }
}
