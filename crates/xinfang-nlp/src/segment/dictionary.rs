//! An organisation's user dictionary: the words jieba must keep whole (unit names, places such as
//! T3航站楼, domain words), edited by admins as text.
//!
//! Format, one word a line: `word [frequency] [tag]`, separated by white space, a comma or a tab
//! (so jieba's own user-dictionary files and a two- or three-column CSV both load); blank lines
//! and lines starting with `#` are ignored. Without a frequency jieba picks one just high enough
//! to keep the word whole. Every bad line is reported with its number, all at once, so an admin
//! fixes a file in one go.

use serde::{Deserialize, Serialize};

/// Longest word accepted, in characters.
pub const MAX_WORD_CHARS: usize = 32;
/// Largest frequency accepted (jieba's own dictionary tops out below 1,000,000).
pub const MAX_FREQ: u32 = 100_000_000;

/// One dictionary word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawWord")]
pub struct UserWord {
    word: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    freq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
}

#[derive(Deserialize)]
struct RawWord {
    word: String,
    #[serde(default)]
    freq: Option<u32>,
    #[serde(default)]
    tag: Option<String>,
}

impl TryFrom<RawWord> for UserWord {
    type Error = DictionaryError;
    fn try_from(r: RawWord) -> Result<Self, Self::Error> {
        UserWord::new(&r.word, r.freq, r.tag.as_deref())
    }
}

/// What is wrong with a word or a line (the line is 0 when the word did not come from a file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictionaryError {
    /// The word is empty.
    #[error("第{line}行：词为空 (line {line}: empty word)")]
    Empty {
        /// 1-based line.
        line: usize,
    },
    /// Longer than [`MAX_WORD_CHARS`].
    #[error(
        "第{line}行：词“{word}”超过{MAX_WORD_CHARS}个字 (line {line}: word longer than {MAX_WORD_CHARS} characters)"
    )]
    TooLong {
        /// 1-based line.
        line: usize,
        /// The word.
        word: String,
    },
    /// A character jieba never joins into a word (space, punctuation).
    #[error(
        "第{line}行：词“{word}”含有不能成词的字符“{ch}” (line {line}: word contains {ch:?}, which cannot be part of a word)"
    )]
    BadChar {
        /// 1-based line.
        line: usize,
        /// The word.
        word: String,
        /// The character.
        ch: char,
    },
    /// Not a whole number from 1 to [`MAX_FREQ`].
    #[error(
        "第{line}行：词频“{text}”不是1到{MAX_FREQ}的整数 (line {line}: frequency {text:?} is not a whole number from 1 to {MAX_FREQ})"
    )]
    BadFreq {
        /// 1-based line.
        line: usize,
        /// The text given.
        text: String,
    },
    /// A tag must be 1–8 ASCII letters (jieba's part-of-speech tags: n, ns, nt, nz…).
    #[error(
        "第{line}行：词性“{text}”应为1到8个英文字母 (line {line}: tag {text:?} must be 1 to 8 ASCII letters)"
    )]
    BadTag {
        /// 1-based line.
        line: usize,
        /// The text given.
        text: String,
    },
    /// More than word, frequency and tag.
    #[error(
        "第{line}行：多余的内容“{text}” (line {line}: unexpected {text:?} after word, frequency and tag)"
    )]
    Extra {
        /// 1-based line.
        line: usize,
        /// The surplus.
        text: String,
    },
    /// The same word twice.
    #[error("第{line}行：词“{word}”与第{first}行重复 (line {line}: {word:?} already on line {first})")]
    Duplicate {
        /// 1-based line of the repeat.
        line: usize,
        /// 1-based line of the first occurrence.
        first: usize,
        /// The word.
        word: String,
    },
}

impl DictionaryError {
    fn at(self, line: usize) -> DictionaryError {
        use DictionaryError::*;
        match self {
            Empty { .. } => Empty { line },
            TooLong { word, .. } => TooLong { line, word },
            BadChar { word, ch, .. } => BadChar { line, word, ch },
            BadFreq { text, .. } => BadFreq { line, text },
            BadTag { text, .. } => BadTag { line, text },
            Extra { text, .. } => Extra { line, text },
            Duplicate { first, word, .. } => Duplicate { line, first, word },
        }
    }
}

/// Characters jieba keeps inside one block besides letters and digits (its block pattern), so a
/// word made of them can match.
fn joinable(c: char) -> bool {
    c.is_alphanumeric() || "+#&._%-".contains(c)
}

impl UserWord {
    /// A word with an optional frequency and part-of-speech tag. Full-width forms are accepted
    /// (matching normalises both sides).
    pub fn new(word: &str, freq: Option<u32>, tag: Option<&str>) -> Result<UserWord, DictionaryError> {
        let word = word.trim();
        if word.is_empty() {
            return Err(DictionaryError::Empty { line: 0 });
        }
        if word.chars().count() > MAX_WORD_CHARS {
            return Err(DictionaryError::TooLong {
                line: 0,
                word: word.into(),
            });
        }
        if let Some(ch) = word.chars().find(|c| !joinable(super::half_width(*c))) {
            return Err(DictionaryError::BadChar {
                line: 0,
                word: word.into(),
                ch,
            });
        }
        if let Some(f) = freq
            && !(1..=MAX_FREQ).contains(&f)
        {
            return Err(DictionaryError::BadFreq {
                line: 0,
                text: f.to_string(),
            });
        }
        if let Some(t) = tag
            && (!(1..=8).contains(&t.len()) || !t.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return Err(DictionaryError::BadTag {
                line: 0,
                text: t.into(),
            });
        }
        Ok(UserWord {
            word: word.into(),
            freq,
            tag: tag.map(str::to_string),
        })
    }

    /// The word as the admin wrote it.
    pub fn word(&self) -> &str {
        &self.word
    }

    /// Its frequency, if given.
    pub fn freq(&self) -> Option<u32> {
        self.freq
    }

    /// Its part-of-speech tag, if given.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
}

/// An organisation's words, in the admin's order. Serialises as `{"words":[{"word":…}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDictionary {
    words: Vec<UserWord>,
}

impl UserDictionary {
    /// Parses the text format (module doc). Returns every bad line, in order.
    pub fn parse(text: &str) -> Result<UserDictionary, Vec<DictionaryError>> {
        let mut words: Vec<UserWord> = Vec::new();
        let mut first_line: std::collections::HashMap<String, usize> = Default::default();
        let mut errors = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let raw = raw.trim_start_matches('\u{feff}').trim();
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = if raw.contains([',', '\t']) {
                raw.split([',', '\t']).map(str::trim).collect()
            } else {
                raw.split_whitespace().collect()
            };
            match parse_fields(&fields) {
                Ok(w) => {
                    let key = super::normalise(w.word());
                    if let Some(first) = first_line.get(&key) {
                        errors.push(DictionaryError::Duplicate {
                            line,
                            first: *first,
                            word: w.word.clone(),
                        });
                    } else {
                        first_line.insert(key, line);
                        words.push(w);
                    }
                }
                Err(e) => errors.push(e.at(line)),
            }
        }
        if errors.is_empty() {
            Ok(UserDictionary { words })
        } else {
            Err(errors)
        }
    }

    /// The dictionary in the text format; [`UserDictionary::parse`] reads it back unchanged.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for w in &self.words {
            out.push_str(&w.word);
            match (w.freq, &w.tag) {
                (Some(f), Some(t)) => out.push_str(&format!(" {f} {t}")),
                (Some(f), None) => out.push_str(&format!(" {f}")),
                // A tag alone needs the comma form, or it would read as a frequency.
                (None, Some(t)) => out.push_str(&format!(",,{t}")),
                (None, None) => {}
            }
            out.push('\n');
        }
        out
    }

    /// Adds a word, or replaces the entry of the same (normalised) word.
    pub fn insert(&mut self, word: UserWord) {
        let key = super::normalise(word.word());
        match self.words.iter_mut().find(|w| super::normalise(w.word()) == key) {
            Some(w) => *w = word,
            None => self.words.push(word),
        }
    }

    /// The words, in order.
    pub fn words(&self) -> &[UserWord] {
        &self.words
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// A 64-bit digest of the words, frequencies and tags in order (FNV-1a): equal dictionaries
    /// have equal fingerprints, so it keys caches of built segmenters and can be stored beside
    /// an index to tell whether it was made with the current dictionary.
    pub fn fingerprint(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for b in bytes {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        for w in &self.words {
            eat(w.word.as_bytes());
            eat(&[0]);
            eat(&w.freq.unwrap_or(0).to_le_bytes());
            eat(w.tag.as_deref().unwrap_or("").as_bytes());
            eat(&[1]);
        }
        h
    }
}

fn parse_fields(fields: &[&str]) -> Result<UserWord, DictionaryError> {
    let word = fields.first().copied().unwrap_or("");
    let freq = match fields.get(1).copied().filter(|f| !f.is_empty()) {
        None => None,
        Some(f) => Some(
            f.parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_FREQ).contains(n))
                .ok_or_else(|| DictionaryError::BadFreq {
                    line: 0,
                    text: f.into(),
                })?,
        ),
    };
    let tag = fields.get(2).copied().filter(|t| !t.is_empty());
    if let Some(extra) = fields
        .get(3..)
        .map(|r| r.join(" "))
        .filter(|s| !s.trim().is_empty())
    {
        return Err(DictionaryError::Extra { line: 0, text: extra });
    }
    UserWord::new(word, freq, tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_and_csv_forms() {
        let d = UserDictionary::parse(
            "# 机场集团用户词典\n\
             T3航站楼\n\
             \n\
             空港物业 1000 nt\n\
             卫星厅,200\n\
             捷运,,n\n\
             ＧＴＣ交通中心\t50\tns\n",
        )
        .unwrap();
        assert_eq!(d.len(), 5);
        assert_eq!(d.words()[0].word(), "T3航站楼");
        assert_eq!(d.words()[0].freq(), None);
        assert_eq!(d.words()[1].freq(), Some(1000));
        assert_eq!(d.words()[1].tag(), Some("nt"));
        assert_eq!(d.words()[2].freq(), Some(200));
        assert_eq!(d.words()[3].tag(), Some("n"));
        assert_eq!(d.words()[4].word(), "ＧＴＣ交通中心");
        assert_eq!(UserDictionary::parse(&d.to_text()).unwrap(), d);
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let errors = UserDictionary::parse(
            "T3航站楼\n\
             停车 abc\n\
             机场 大巴 n x\n\
             出租车 0\n\
             安检,10,名词\n\
             ｔ３航站楼\n\
             出租车（东）\n",
        )
        .unwrap_err();
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 6, "{lines:#?}");
        assert!(matches!(&errors[0], DictionaryError::BadFreq { line: 2, text } if text == "abc"));
        assert!(matches!(&errors[1], DictionaryError::BadFreq { line: 3, .. }));
        assert!(matches!(&errors[2], DictionaryError::BadFreq { line: 4, text } if text == "0"));
        assert!(matches!(&errors[3], DictionaryError::BadTag { line: 5, .. }));
        assert!(matches!(
            &errors[4],
            DictionaryError::Duplicate {
                line: 6,
                first: 1,
                ..
            }
        ));
        assert!(matches!(
            &errors[5],
            DictionaryError::BadChar {
                line: 7,
                ch: '（',
                ..
            }
        ));
        assert!(lines[0].starts_with("第2行") && lines[0].contains("line 2"));
    }

    #[test]
    fn serde_round_trip_validates() {
        let d = UserDictionary::parse("T3航站楼 100 ns\n卫星厅").unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"words":[{"word":"T3航站楼","freq":100,"tag":"ns"},{"word":"卫星厅"}]}"#
        );
        assert_eq!(serde_json::from_str::<UserDictionary>(&json).unwrap(), d);
        assert!(serde_json::from_str::<UserDictionary>(r#"{"words":[{"word":"a b"}]}"#).is_err());
    }

    #[test]
    fn fingerprint_follows_content() {
        let a = UserDictionary::parse("T3航站楼\n卫星厅").unwrap();
        let b = UserDictionary::parse("T3航站楼\n卫星厅 10").unwrap();
        assert_eq!(
            a.fingerprint(),
            UserDictionary::parse("T3航站楼 \n卫星厅\n")
                .unwrap()
                .fingerprint()
        );
        assert_ne!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.insert(UserWord::new("卫星厅", Some(10), None).unwrap());
        assert_eq!(c, b);
    }
}
