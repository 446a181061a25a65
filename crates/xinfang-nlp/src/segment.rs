//! Segmentation: jieba, built once, an organisation's own words on top of it, text normalisation
//! and the token streams for search.
//!
//! `Jieba::new()` costs 100–175 ms and ~33 MB, so one base instance is built lazily and shared by
//! every thread. An organisation's [`UserDictionary`] (unit names, places such as T3航站楼, domain
//! words) makes a [`Segmenter`]: a copy of the base with the words added, shared behind an `Arc`
//! (cloning it is a reference count); [`SegmenterCache`] keeps the few in use keyed by the
//! dictionary's fingerprint, so an edited dictionary takes effect at the next look-up and an
//! unchanged one is never rebuilt. The free functions ([`index_tokens`], [`query_tokens`]) use the
//! base dictionary.
//!
//! Indexing uses jieba's search mode (`cut_for_search`), which emits a long word and its shorter
//! parts (机场大巴 → 机场, 大巴, 机场大巴), so a query for either part finds it. Queries use the
//! ordinary mode, and every query token must match. Index and query must be made by the same
//! segmenter (the same dictionary), or a user word indexed whole would not be found by a query
//! cut without it.
//!
//! Normalisation ([`normalise`]) is versioned ([`TEXT_VERSION`]) because models record the version
//! their features were made with: version 0 folds full-width forms and case, version 1 also
//! maps traditional characters to simplified ones (機場 → 机场).

mod dictionary;
mod numbers;
mod t2s_table;

pub use dictionary::{DictionaryError, UserDictionary, UserWord};
pub use numbers::{PersonalNumber, PersonalNumberKind, find_personal_numbers, mask_personal_numbers};
pub(crate) use numbers::{classify_number, digit_run};

use jieba_rs::Jieba;
use std::sync::{Arc, LazyLock, Mutex};

pub(crate) static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Forces the dictionary to load now (at server start) instead of on the first request.
pub fn warm_up() {
    LazyLock::force(&JIEBA);
}

/// The current version of [`normalise`]: 1 = width and case folding plus traditional →
/// simplified. Version 0 (width and case only) is kept for models trained before.
pub const TEXT_VERSION: u32 = 1;

/// Full-width ASCII forms to half-width and the ideographic space to a plain space; nothing else
/// (ＡＢＣ１２３ → ABC123).
pub fn to_half_width(text: &str) -> String {
    text.chars().map(half_width).collect()
}

fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Traditional characters to simplified ones, character by character, from an embedded table
/// of 2,557 pairs (OpenCC's, restricted to characters that are not valid simplified characters
/// in their own right: 乾 in 乾隆 stays). Word-level conversions (e.g. regional vocabulary) are not
/// attempted.
pub fn to_simplified(text: &str) -> String {
    text.chars().map(simplified_char).collect()
}

/// The CJK Unified Ideographs block (U+4E00–U+9FFF), where nearly every character of Chinese
/// text lies.
pub(crate) const CJK: std::ops::RangeInclusive<u32> = 0x4E00..=0x9FFF;

/// 64-bit words for one bit per character of [`CJK`].
const CJK_WORDS: usize = (*CJK.end() - *CJK.start()) as usize / 64 + 1;

/// One bit per character of [`CJK`]: set when the character has a simplified form. Most text
/// is simplified already, and for it one bit answers instead of a binary search of the table
/// (which was 0.8 % of the machine's CPU in a burst of registrations: every letter is
/// normalised for its search tokens, its signature and its assessment).
static HAS_SIMPLIFIED: [u64; CJK_WORDS] = {
    let mut bits = [0u64; CJK_WORDS];
    let mut i = 0;
    while i < t2s_table::T2S.len() {
        let c = t2s_table::T2S[i].0 as u32;
        if c >= *CJK.start() && c <= *CJK.end() {
            let k = (c - *CJK.start()) as usize;
            bits[k / 64] |= 1 << (k % 64);
        }
        i += 1;
    }
    bits
};

/// The simplified form of one character (itself when it has none).
pub fn simplified_char(c: char) -> char {
    let code = c as u32;
    // Every traditional character of the table is at or above U+4E00 (CJK Unified Ideographs).
    if code < *CJK.start() {
        return c;
    }
    if code <= *CJK.end() {
        let k = (code - *CJK.start()) as usize;
        if HAS_SIMPLIFIED[k / 64] & (1 << (k % 64)) == 0 {
            return c;
        }
    }
    match t2s_table::T2S.binary_search_by_key(&c, |(t, _)| *t) {
        Ok(i) => t2s_table::T2S[i].1,
        Err(_) => c,
    }
}

/// Whether `c` is a letter or digit ([`char::is_alphanumeric`]), answered without Unicode's
/// tables for ASCII and for the CJK ideographs, which are all letters.
pub(crate) fn is_alphanumeric(c: char) -> bool {
    c.is_ascii_alphanumeric() || CJK.contains(&(c as u32)) || (!c.is_ascii() && c.is_alphanumeric())
}

/// Normalises text for matching ([`TEXT_VERSION`]): full-width ASCII to half-width, ASCII
/// letters to lower case, the ideographic space to a plain space, traditional characters to
/// simplified ones.
pub fn normalise(text: &str) -> String {
    normalise_version(text, TEXT_VERSION)
}

/// [`normalise`] as it was at `version` (0: without traditional → simplified). A version newer
/// than this build knows normalises as the newest it knows.
pub fn normalise_version(text: &str, version: u32) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = half_width(c);
        let c = if version >= 1 { simplified_char(c) } else { c };
        // Ideographs have no case: skip Unicode's case table for them.
        if CJK.contains(&(c as u32)) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Whether a token carries meaning for search (not punctuation or white space).
pub(crate) fn is_word(token: &str) -> bool {
    token.chars().any(is_alphanumeric)
}

/// A jieba segmenter: the embedded base dictionary, or the base plus an organisation's words.
/// Cloning is cheap (a reference count); share one between threads.
#[derive(Clone)]
pub struct Segmenter {
    /// `None`: the shared base instance.
    custom: Option<Arc<Jieba>>,
    fingerprint: u64,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segmenter")
            .field("custom", &self.custom.is_some())
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Segmenter::base()
    }
}

impl Segmenter {
    /// The embedded dictionary alone (what [`index_tokens`] and [`query_tokens`] use).
    pub fn base() -> Segmenter {
        Segmenter {
            custom: None,
            fingerprint: UserDictionary::default().fingerprint(),
        }
    }

    /// The base dictionary plus `dict`'s words (normalised as text is, so Ｔ３航站楼 in the
    /// dictionary matches T3航站楼 in a message). Copies the base (tens of milliseconds, ~30 MB):
    /// build one per dictionary revision, e.g. through a [`SegmenterCache`], not one per request.
    pub fn with_dictionary(dict: &UserDictionary) -> Segmenter {
        if dict.is_empty() {
            return Segmenter::base();
        }
        let mut jieba = JIEBA.clone();
        for w in dict.words() {
            jieba.add_word(&normalise(w.word()), w.freq().map(|f| f as usize), w.tag());
        }
        Segmenter {
            custom: Some(Arc::new(jieba)),
            fingerprint: dict.fingerprint(),
        }
    }

    /// The [`UserDictionary::fingerprint`] of the dictionary it was built from.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub(crate) fn jieba(&self) -> &Jieba {
        match &self.custom {
            Some(j) => j,
            None => &JIEBA,
        }
    }

    /// The words of already-normalised text in ordinary mode, white space and punctuation
    /// dropped.
    pub fn words<'a>(&self, normalised: &'a str) -> Vec<&'a str> {
        self.jieba()
            .cut(normalised, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| is_word(w))
            .collect()
    }

    /// The tokens to index for `text`, space-separated, in search mode. Characters that a search
    /// index would treat as syntax (quotes, stars, punctuation) never reach it.
    pub fn index_tokens(&self, text: &str) -> String {
        let norm = normalise(text);
        let mut out = String::with_capacity(norm.len() + norm.len() / 2);
        for t in self.jieba().cut_for_search(&norm, true) {
            let w = t.word;
            if is_word(w) {
                let clean: String = w.chars().filter(|&c| is_alphanumeric(c)).collect();
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(&clean);
            }
        }
        out
    }

    /// The tokens of a search query; each must match. At most 16 are kept so a pasted essay
    /// cannot become a pathological query.
    pub fn query_tokens(&self, query: &str) -> Vec<String> {
        let norm = normalise(query);
        let mut out: Vec<String> = self
            .words(&norm)
            .into_iter()
            .map(|w| w.chars().filter(|&c| is_alphanumeric(c)).collect::<String>())
            .filter(|w| !w.is_empty())
            .collect();
        out.dedup();
        out.truncate(16);
        out
    }
}

/// The segmenters of the dictionaries in use, keyed by fingerprint, the least recently used
/// dropped beyond `capacity`. A server keeps one and asks it with the organisation's current
/// dictionary on each use.
pub struct SegmenterCache {
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<Vec<(u64, Segmenter)>>,
}

impl SegmenterCache {
    /// A cache of at most `capacity` custom segmenters (each ~30 MB); at least 1.
    pub fn new(capacity: usize) -> SegmenterCache {
        SegmenterCache {
            capacity: capacity.max(1),
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The segmenter of `dict`, built on first use. Building happens outside the lock, so other
    /// organisations are not held up; two threads asking for the same new dictionary at once may
    /// both build it, and one copy is kept.
    pub fn get(&self, dict: &UserDictionary) -> Segmenter {
        if dict.is_empty() {
            return Segmenter::base();
        }
        let key = dict.fingerprint();
        if let Some(s) = self.lookup(key) {
            return s;
        }
        let built = Segmenter::with_dictionary(dict);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pos) = entries.iter().position(|(k, _)| *k == key) {
            return entries[pos].1.clone();
        }
        if entries.len() >= self.capacity {
            entries.remove(0);
        }
        entries.push((key, built.clone()));
        built
    }

    fn lookup(&self, key: u64) -> Option<Segmenter> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let pos = entries.iter().position(|(k, _)| *k == key)?;
        let entry = entries.remove(pos);
        let s = entry.1.clone();
        entries.push(entry);
        Some(s)
    }

    /// How many custom segmenters are held.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The tokens to index for `text` with the base dictionary (see [`Segmenter::index_tokens`]).
pub fn index_tokens(text: &str) -> String {
    Segmenter::base().index_tokens(text)
}

/// The tokens of a search query with the base dictionary (see [`Segmenter::query_tokens`]).
pub fn query_tokens(query: &str) -> Vec<String> {
    Segmenter::base().query_tokens(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_contains_query_tokens() {
        let idx = index_tokens("夜间航班落地后机场大巴已停运，希望增开线路！");
        let words: Vec<&str> = idx.split(' ').collect();
        for q in query_tokens("机场大巴停运") {
            assert!(words.contains(&q.as_str()), "{q} missing from {idx}");
        }
        assert!(!idx.contains('，'));
    }

    #[test]
    fn a_place_a_user_dictionary_would_name_is_found_with_the_base_dictionary() {
        // Search keeps jieba's own dictionary (README): the place must still be found.
        let idx = index_tokens("Ｔ３航站楼到达层出租车排队混乱");
        let words: Vec<&str> = idx.split(' ').collect();
        let q = query_tokens("T3航站楼");
        assert!(!q.is_empty());
        for t in &q {
            assert!(words.contains(&t.as_str()), "{t} missing from {idx}");
        }
    }

    /// The fast paths answer as the slow ones for every character there is.
    #[test]
    fn fast_paths_agree_with_the_tables_for_every_character() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_alphanumeric(c), c.is_alphanumeric(), "{c:?}");
            let searched = match t2s_table::T2S.binary_search_by_key(&c, |(t, _)| *t) {
                Ok(i) => t2s_table::T2S[i].1,
                Err(_) => c,
            };
            assert_eq!(simplified_char(c), searched, "{c:?}");
            if CJK.contains(&(c as u32)) {
                assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
            }
        }
    }

    #[test]
    fn full_width_is_normalised() {
        assert_eq!(normalise("ＭＵ５７１２航班"), "mu5712航班");
        assert_eq!(query_tokens("ＭＵ５７１２"), vec!["mu5712".to_string()]);
        assert_eq!(to_half_width("ＡＢＣ１２３"), "ABC123");
        assert_eq!(normalise("ＡＢＣ１２３"), "abc123");
        assert_eq!(to_half_width("　Ｔ３航站楼，"), " T3航站楼,");
    }

    #[test]
    fn traditional_becomes_simplified() {
        assert_eq!(to_simplified("機場"), "机场");
        assert_eq!(
            normalise("桃園國際機場第二航廈停車場"),
            "桃园国际机场第二航厦停车场"
        );
        assert_eq!(normalise("後來於是"), "后来于是");
        // Characters that are valid simplified ones stay: 乾隆, 瞭望.
        assert_eq!(normalise("乾隆瞭望"), "乾隆瞭望");
        // Version 0 (models trained before) leaves them as they were.
        assert_eq!(normalise_version("機場ＡＢ", 0), "機場ab");
        // A traditional query finds simplified text.
        assert_eq!(query_tokens("機場大巴"), query_tokens("机场大巴"));
    }

    #[test]
    fn the_table_is_sorted_and_maps_to_other_characters() {
        let t = &t2s_table::T2S;
        assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(t.iter().all(|(a, b)| a != b && (*a as u32) >= 0x4E00));
    }

    #[test]
    fn query_syntax_is_stripped() {
        let q = query_tokens("\"停车\" OR *收费*");
        assert!(q.iter().all(|t| t.chars().all(char::is_alphanumeric)));
    }

    #[test]
    fn a_user_word_stays_one_token() {
        let text = "Ｔ３航站楼出租车排队太久";
        let base = Segmenter::base();
        assert!(!base.query_tokens(text).contains(&"t3航站楼".to_string()));
        let dict = UserDictionary::parse("T3航站楼\n空港物业 1000 nt\n").unwrap();
        let seg = Segmenter::with_dictionary(&dict);
        let q = seg.query_tokens(text);
        assert_eq!(q[0], "t3航站楼", "{q:?}");
        // The index has the whole word and its parts, so either query finds the text.
        let idx = seg.index_tokens(text);
        let words: Vec<&str> = idx.split(' ').collect();
        assert!(words.contains(&"t3航站楼") && words.contains(&"航站楼"), "{idx}");
        assert!(seg.query_tokens("空港物业收费").contains(&"空港物业".to_string()));
        // The base is untouched.
        assert!(
            !Segmenter::base()
                .query_tokens(text)
                .contains(&"t3航站楼".to_string())
        );
        assert_ne!(seg.fingerprint(), base.fingerprint());
    }

    #[test]
    fn the_cache_builds_a_dictionary_once_and_follows_edits() {
        let cache = SegmenterCache::new(2);
        let a = UserDictionary::parse("T3航站楼").unwrap();
        let s1 = cache.get(&a);
        let s2 = cache.get(&a);
        assert!(Arc::ptr_eq(
            s1.custom.as_ref().unwrap(),
            s2.custom.as_ref().unwrap()
        ));
        assert_eq!(cache.len(), 1);
        let b = UserDictionary::parse("T3航站楼\n卫星厅").unwrap();
        let s3 = cache.get(&b);
        assert_ne!(s3.fingerprint(), s1.fingerprint());
        assert!(s3.query_tokens("卫星厅").contains(&"卫星厅".to_string()));
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&UserDictionary::default()).custom.is_none());
    }
}
