//! Features for the routing classifier: normalised, masked text → jieba words, word bigrams and
//! character 1–3-grams → sublinear TF-IDF, L2-normalised per block.
//!
//! Two paths produce the same vectors. Training analyses a whole corpus once
//! ([`Corpus::analyse`]): every document becomes counts over corpus-wide term ids, so fitting a
//! vocabulary per cross-validation fold is a counting exercise and segmentation runs once.
//! Prediction goes through a [`FeatureSpace`] keyed by the words and characters themselves. A
//! [`FeatureSpace`] fitted on a corpus vectorises that corpus's documents exactly as it vectorises
//! their texts (tested below).
//!
//! Personal numbers never become features: [`feature_text`] replaces mobile numbers, ID numbers and
//! any other run of seven or more digits with a placeholder character before anything else sees
//! the text, so no model file contains a petitioner's number.

use crate::segment::{
    Segmenter, TEXT_VERSION, UserDictionary, classify_number, digit_run, normalise_version,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Placeholder for a mainland mobile number (1[3-9] and nine more digits).
pub const MASK_PHONE: char = '\u{E000}';
/// Placeholder for a resident ID number (18 characters, or the old 15-digit form).
pub const MASK_ID: char = '\u{E001}';
/// Placeholder for any other run of seven or more digits (landlines, bank cards, order numbers).
pub const MASK_NUMBER: char = '\u{E002}';

/// How documents become vectors. Stored in the model, so prediction uses what training used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Shortest character n-gram (≥ 1).
    pub char_min: u8,
    /// Longest character n-gram (≤ 3: grams are packed into 64 bits).
    pub char_max: u8,
    /// Whether adjacent jieba words form bigram features.
    pub word_bigrams: bool,
    /// A term must occur in at least this many training documents.
    pub min_df: u32,
    /// Weight of the word block after its L2 normalisation.
    pub word_weight: f32,
    /// Weight of the word-bigram block after its L2 normalisation.
    pub bigram_weight: f32,
    /// Weight of the character n-gram block after its L2 normalisation.
    pub char_weight: f32,
    /// Length of the opening (title and first sentence) whose character n-grams form a block of
    /// their own, so what a message opens with counts more than what it goes on about; 0 = off.
    #[serde(default)]
    pub head_chars: u32,
    /// Weight of the opening's block after its L2 normalisation.
    #[serde(default)]
    pub head_weight: f32,
    /// The [`crate::segment::normalise_version`] the text goes through. Models trained before
    /// the field existed have none and read as 0 (no traditional → simplified), so they keep
    /// seeing text as they were trained on it.
    #[serde(default)]
    pub text_version: u32,
    /// The organisation's user dictionary the words were segmented with (its text as the admin
    /// wrote it, [`UserDictionary::parse`]; empty: the embedded dictionary alone). Kept in the
    /// model so that prediction cuts "T3航站楼" into the words training saw, whatever the
    /// dictionary has become since.
    #[serde(default)]
    pub dictionary: String,
}

impl FeatureConfig {
    /// The segmenter of [`FeatureConfig::dictionary`]; an error names a bad line.
    pub fn segmenter(&self) -> Result<Segmenter, String> {
        if self.dictionary.trim().is_empty() {
            return Ok(Segmenter::base());
        }
        UserDictionary::parse(&self.dictionary)
            .map(|d| Segmenter::with_dictionary(&d))
            .map_err(|errors| {
                errors
                    .first()
                    .map_or_else(|| "bad user dictionary".to_string(), ToString::to_string)
            })
    }
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            char_min: 1,
            char_max: 3,
            // Bigrams of words added nothing over character trigrams on the routing benchmark
            // (5-fold CV macro-F1 0.9151 with, 0.9157 without) and cost a fifth of the model.
            word_bigrams: false,
            // 3 rather than 2: the same 5-fold CV figures on the routing benchmark (macro-F1
            // 0.9155 vs 0.9157) with half the vocabulary, so half the model and fewer cache misses.
            min_df: 3,
            word_weight: 1.0,
            bigram_weight: 0.5,
            char_weight: 1.0,
            head_chars: 60,
            head_weight: 0.5,
            text_version: TEXT_VERSION,
            dictionary: String::new(),
        }
    }
}

/// Normalises text for features: full-width to half-width, lower case, traditional to
/// simplified, white space runs to one space, and personal numbers replaced by [`MASK_PHONE`],
/// [`MASK_ID`] or [`MASK_NUMBER`].
pub fn feature_text(text: &str) -> String {
    feature_text_version(text, TEXT_VERSION)
}

/// [`feature_text`] with the normalisation of `text_version` ([`FeatureConfig::text_version`]).
pub fn feature_text_version(text: &str, text_version: u32) -> String {
    let norm = normalise_version(text, text_version);
    let chars: Vec<char> = norm.chars().collect();
    let mut out = String::with_capacity(norm.len());
    let mut i = 0;
    let mut last_space = true;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let (end, digits) = digit_run(&chars, i);
            if digits.len() >= 7 {
                out.push(classify_number(&digits));
                last_space = false;
                i = end;
                continue;
            }
            out.extend(&chars[i..end]);
            last_space = false;
            i = end;
            continue;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
        i += 1;
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A document's words (jieba, white space dropped) and characters, after [`feature_text`].
#[derive(Debug, Clone)]
pub struct Analysed {
    /// The jieba words in order.
    pub words: Vec<String>,
    /// The characters in order.
    pub chars: Vec<char>,
}

/// Segments `text` after [`feature_text`].
pub fn analyse(text: &str) -> Analysed {
    analyse_version(text, TEXT_VERSION)
}

/// Segments `text` after [`feature_text_version`] with the embedded dictionary.
pub fn analyse_version(text: &str, text_version: u32) -> Analysed {
    analyse_with(&Segmenter::base(), text, text_version)
}

/// Segments `text` after [`feature_text_version`] with `segmenter`.
pub fn analyse_with(segmenter: &Segmenter, text: &str, text_version: u32) -> Analysed {
    let norm = feature_text_version(text, text_version);
    let words = segmenter
        .jieba()
        .cut(&norm, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| !w.trim().is_empty())
        .map(str::to_string)
        .collect();
    Analysed {
        words,
        chars: norm.chars().collect(),
    }
}

/// Packs a character n-gram (n ≤ 3) into a key; distinct grams get distinct keys. Grams of the
/// opening have the top bit set ([`HEAD`]).
fn gram_key(gram: &[char]) -> u64 {
    gram.iter().fold(0u64, |k, c| (k << 21) | (*c as u64 + 1))
}

/// Flag of a gram key that marks a gram of the opening.
const HEAD: u64 = 1 << 63;

/// The characters of a gram key made by [`gram_key`].
fn gram_text(key: u64) -> String {
    let mut key = key & !HEAD;
    let mut out = Vec::new();
    while key != 0 {
        let c = (key & 0x1F_FFFF) as u32;
        out.push(char::from_u32(c.saturating_sub(1)).unwrap_or('\u{FFFD}'));
        key >>= 21;
    }
    out.iter().rev().collect()
}

/// Calls `f` with the key of every character n-gram of the text, then of its opening.
fn for_each_gram(chars: &[char], config: &FeatureConfig, mut f: impl FnMut(u64)) {
    let lo = config.char_min.max(1) as usize;
    let hi = config.char_max.clamp(1, 3) as usize;
    let head = chars.len().min(config.head_chars as usize);
    for (part, flag) in [(chars, 0), (&chars[..head], HEAD)] {
        if flag == HEAD && (config.head_chars == 0 || config.head_weight <= 0.0) {
            break;
        }
        for n in lo..=hi {
            if part.len() >= n {
                for g in part.windows(n) {
                    f(gram_key(g) | flag);
                }
            }
        }
    }
}

/// FxHash with a final mix: a fast hasher for integer and short-string keys of vocabularies fixed at training
/// time (no attacker decides what is in the table, so SipHash's protection buys nothing).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        // The multiply only carries low bits upward, and the table indexes by the low bits: grams
        // that end in the same character would share buckets. A final avalanche (MurmurHash3's
        // fmix64) spreads every input bit over the whole hash.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.write_u64(u64::from_le_bytes(b));
        }
        for b in chunks.remainder() {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

/// A HashMap with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A sparse vector: strictly increasing feature indices with their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    /// Feature indices, increasing.
    pub indices: Vec<u32>,
    /// The value of each index.
    pub values: Vec<f32>,
}

/// A corpus analysed once: every document as term counts over corpus-wide ids.
pub struct Corpus {
    /// Word text of each word id.
    pub words: Vec<String>,
    /// Word-id pair of each bigram id.
    pub bigrams: Vec<(u32, u32)>,
    /// Gram key of each gram id.
    pub grams: Vec<u64>,
    /// Per document: (word id, count), (bigram id, count), (gram id, count), each id once.
    pub docs: Vec<DocTerms>,
}

/// One document's term counts over a [`Corpus`]'s ids (each id once, in no particular order).
#[derive(Debug, Clone, Default)]
pub struct DocTerms {
    /// (word id, count).
    pub words: Vec<(u32, u32)>,
    /// (bigram id, count).
    pub bigrams: Vec<(u32, u32)>,
    /// (gram id, count).
    pub grams: Vec<(u32, u32)>,
}

fn counts(mut ids: Vec<u32>) -> Vec<(u32, u32)> {
    ids.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(ids.len());
    for id in ids {
        match out.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => out.push((id, 1)),
        }
    }
    out
}

impl Corpus {
    /// Segments every text and counts its terms, on up to `threads` threads: each thread builds
    /// the corpus of its share of the texts, and the shares are merged (one look-up per distinct
    /// term of a share instead of one per occurrence).
    ///
    /// Words are cut with [`FeatureConfig::dictionary`] (one that does not parse, which
    /// [`crate::Classifier::train`] refuses before it gets here, with the embedded one alone).
    pub fn analyse(texts: &[&str], config: &FeatureConfig, threads: usize) -> Corpus {
        let segmenter = config.segmenter().unwrap_or_default();
        let segmenter = &segmenter;
        let threads = threads.clamp(1, 16);
        let chunk = texts.len().div_ceil(threads).max(1);
        let parts: Vec<Corpus> = std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| s.spawn(move || Corpus::analyse_serial(part, config, segmenter)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join())
                .collect::<Result<Vec<_>, _>>()
        })
        // A thread cannot fail short of a bug in segmentation; should one, redo the work here
        // rather than lose its documents.
        .unwrap_or_else(|_| vec![Corpus::analyse_serial(texts, config, segmenter)]);
        let mut parts = parts.into_iter();
        let Some(mut corpus) = parts.next() else {
            return Corpus::analyse_serial(&[], config, segmenter);
        };
        for part in parts {
            corpus.merge(part);
        }
        corpus
    }

    fn analyse_serial(texts: &[&str], config: &FeatureConfig, segmenter: &Segmenter) -> Corpus {
        let mut word_ids: FxMap<String, u32> = FxMap::default();
        let mut bigram_ids: FxMap<u64, u32> = FxMap::default();
        let mut gram_ids: FxMap<u64, u32> = FxMap::default();
        let mut corpus = Corpus {
            words: Vec::new(),
            bigrams: Vec::new(),
            grams: Vec::new(),
            docs: Vec::with_capacity(texts.len()),
        };
        for text in texts {
            let a = analyse_with(segmenter, text, config.text_version);
            let mut ws = Vec::with_capacity(a.words.len());
            for w in a.words {
                let next = corpus.words.len() as u32;
                let id = *word_ids.entry(w).or_insert_with_key(|w| {
                    corpus.words.push(w.clone());
                    next
                });
                ws.push(id);
            }
            let mut bs = Vec::new();
            if config.word_bigrams {
                for p in ws.windows(2) {
                    let next = corpus.bigrams.len() as u32;
                    let id = *bigram_ids.entry(bigram_key(p[0], p[1])).or_insert_with(|| {
                        corpus.bigrams.push((p[0], p[1]));
                        next
                    });
                    bs.push(id);
                }
            }
            let mut gs = Vec::with_capacity(a.chars.len() * 4);
            for_each_gram(&a.chars, config, |key| {
                let next = corpus.grams.len() as u32;
                let id = *gram_ids.entry(key).or_insert_with(|| {
                    corpus.grams.push(key);
                    next
                });
                gs.push(id);
            });
            corpus.docs.push(DocTerms {
                words: counts(ws),
                bigrams: counts(bs),
                grams: counts(gs),
            });
        }
        corpus
    }

    /// Appends the documents of `other`, mapping its term ids onto this corpus's.
    fn merge(&mut self, other: Corpus) {
        let mut word_ids: FxMap<&str, u32> = FxMap::default();
        word_ids.extend(self.words.iter().enumerate().map(|(i, w)| (w.as_str(), i as u32)));
        let mut new_words = Vec::new();
        let word_map: Vec<u32> = other
            .words
            .iter()
            .map(|w| match word_ids.get(w.as_str()) {
                Some(id) => *id,
                None => {
                    let id = (self.words.len() + new_words.len()) as u32;
                    new_words.push(w.clone());
                    id
                }
            })
            .collect();
        drop(word_ids);
        self.words.extend(new_words);
        let mut bigram_ids: FxMap<u64, u32> = FxMap::default();
        bigram_ids.extend(
            self.bigrams
                .iter()
                .enumerate()
                .map(|(i, (a, b))| (bigram_key(*a, *b), i as u32)),
        );
        let bigram_map: Vec<u32> = other
            .bigrams
            .iter()
            .map(|(a, b)| {
                let (a, b) = (word_map[*a as usize], word_map[*b as usize]);
                *bigram_ids.entry(bigram_key(a, b)).or_insert_with(|| {
                    self.bigrams.push((a, b));
                    (self.bigrams.len() - 1) as u32
                })
            })
            .collect();
        let mut gram_ids: FxMap<u64, u32> = FxMap::default();
        gram_ids.reserve(self.grams.len() + other.grams.len());
        gram_ids.extend(self.grams.iter().enumerate().map(|(i, g)| (*g, i as u32)));
        let gram_map: Vec<u32> = other
            .grams
            .iter()
            .map(|g| {
                *gram_ids.entry(*g).or_insert_with(|| {
                    self.grams.push(*g);
                    (self.grams.len() - 1) as u32
                })
            })
            .collect();
        let remap = |terms: Vec<(u32, u32)>, map: &[u32]| -> Vec<(u32, u32)> {
            terms.into_iter().map(|(id, n)| (map[id as usize], n)).collect()
        };
        for d in other.docs {
            self.docs.push(DocTerms {
                words: remap(d.words, &word_map),
                bigrams: remap(d.bigrams, &bigram_map),
                grams: remap(d.grams, &gram_map),
            });
        }
    }
}

/// What a feature index stands for, for explanations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureName {
    /// A jieba word.
    Word(String),
    /// Two adjacent jieba words.
    Bigram(String, String),
    /// A character n-gram.
    Chars(String),
}

impl FeatureName {
    /// The text a person reads: the word, the two words joined, or the characters; masked
    /// numbers shown as 〔电话〕, 〔证件号〕, 〔号码〕.
    pub fn display(&self) -> String {
        let raw = match self {
            FeatureName::Word(w) | FeatureName::Chars(w) => w.clone(),
            FeatureName::Bigram(a, b) => format!("{a}{b}"),
        };
        let mut out = String::with_capacity(raw.len());
        for c in raw.chars() {
            match c {
                MASK_PHONE => out.push_str("〔电话〕"),
                MASK_ID => out.push_str("〔证件号〕"),
                MASK_NUMBER => out.push_str("〔号码〕"),
                _ => out.push(c),
            }
        }
        out
    }
}

/// The vocabulary of a trained model: which words, bigrams and grams are features, their
/// inverse document frequencies, and how a text becomes a vector.
#[derive(Debug, Clone)]
pub struct FeatureSpace {
    config: FeatureConfig,
    /// The segmenter of `config.dictionary` (the base one for a space that never sees text).
    segmenter: Segmenter,
    /// Word text → feature index (0..n_words).
    words: FxMap<Box<str>, u32>,
    /// Word texts in index order.
    word_list: Vec<Box<str>>,
    /// (word feature, word feature) packed → feature index (n_words..n_words+n_bigrams).
    bigrams: FxMap<u64, u32>,
    bigram_list: Vec<(u32, u32)>,
    /// Gram key → feature index (after words and bigrams).
    grams: FxMap<u64, u32>,
    gram_list: Vec<u64>,
    /// First feature index of the opening's grams (the grams are sorted: text's, then opening's).
    head_start: u32,
    idf: Vec<f32>,
    /// Gram feature → the word feature with the same text, for explanations.
    gram_word: FxMap<u32, u32>,
}

/// A [`FeatureSpace`] fitted on some documents of a [`Corpus`], with the tables that vectorise
/// that corpus's documents without looking at text again.
pub struct FittedCorpus<'c> {
    corpus: &'c Corpus,
    /// Corpus word id → feature index.
    word_map: Vec<u32>,
    bigram_map: Vec<u32>,
    gram_map: Vec<u32>,
    /// The space, for prediction and serialisation.
    pub space: FeatureSpace,
}

const NONE: u32 = u32::MAX;

fn bigram_key(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

fn idf(n_docs: usize, df: u32) -> f32 {
    (((1 + n_docs) as f64 / (1 + df) as f64).ln() + 1.0) as f32
}

impl FeatureSpace {
    /// Fits the vocabulary and IDF on the documents `train` of `corpus`: a term is kept when it
    /// occurs in at least `min_df` of them. Without `lookup`, the space only vectorises corpus
    /// documents (a cross-validation fold): its text look-up tables stay empty.
    pub fn fit<'c>(
        corpus: &'c Corpus,
        train: &[usize],
        config: &FeatureConfig,
        lookup: bool,
    ) -> FittedCorpus<'c> {
        let min_df = config.min_df.max(1);
        let mut wdf = vec![0u32; corpus.words.len()];
        let mut bdf = vec![0u32; corpus.bigrams.len()];
        let mut gdf = vec![0u32; corpus.grams.len()];
        for &d in train {
            let doc = &corpus.docs[d];
            doc.words.iter().for_each(|(id, _)| wdf[*id as usize] += 1);
            doc.bigrams.iter().for_each(|(id, _)| bdf[*id as usize] += 1);
            doc.grams.iter().for_each(|(id, _)| gdf[*id as usize] += 1);
        }
        let n = train.len();
        let mut idfs = Vec::new();
        let mut word_map = vec![NONE; corpus.words.len()];
        let mut words = FxMap::default();
        let mut word_list = Vec::new();
        for (id, df) in wdf.iter().enumerate() {
            if *df >= min_df {
                let f = idfs.len() as u32;
                word_map[id] = f;
                if lookup {
                    let w: Box<str> = corpus.words[id].as_str().into();
                    words.insert(w.clone(), f);
                    word_list.push(w);
                }
                idfs.push(idf(n, *df));
            }
        }
        let mut bigram_map = vec![NONE; corpus.bigrams.len()];
        let mut bigrams = FxMap::default();
        let mut bigram_list = Vec::new();
        for (id, df) in bdf.iter().enumerate() {
            let (a, b) = corpus.bigrams[id];
            let (fa, fb) = (word_map[a as usize], word_map[b as usize]);
            if *df >= min_df && fa != NONE && fb != NONE {
                let f = idfs.len() as u32;
                bigram_map[id] = f;
                if lookup {
                    bigrams.insert(bigram_key(fa, fb), f);
                    bigram_list.push((fa, fb));
                }
                idfs.push(idf(n, *df));
            }
        }
        let mut gram_map = vec![NONE; corpus.grams.len()];
        let mut grams = FxMap::default();
        let mut gram_list = Vec::new();
        let mut head_start = None;
        for head in [false, true] {
            if head {
                head_start = Some(idfs.len() as u32);
            }
            for (id, df) in gdf.iter().enumerate() {
                let key = corpus.grams[id];
                if *df >= min_df && (key & HEAD != 0) == head {
                    let f = idfs.len() as u32;
                    gram_map[id] = f;
                    if lookup {
                        grams.insert(key, f);
                        gram_list.push(key);
                    }
                    idfs.push(idf(n, *df));
                }
            }
        }
        let head_start = head_start.unwrap_or(idfs.len() as u32);
        let mut fitted = FittedCorpus {
            corpus,
            word_map,
            bigram_map,
            gram_map,
            space: FeatureSpace {
                config: config.clone(),
                // Only a space that looks text up segments; a fold's space never does.
                segmenter: if lookup {
                    config.segmenter().unwrap_or_default()
                } else {
                    Segmenter::base()
                },
                words,
                word_list,
                bigrams,
                bigram_list,
                grams,
                gram_list,
                head_start,
                idf: idfs,
                gram_word: FxMap::default(),
            },
        };
        if lookup {
            fitted.space.link_grams_to_words();
        }
        fitted
    }

    /// Rebuilds a space from its parts (as stored in a model file). Fails when they disagree.
    pub fn from_parts(
        config: FeatureConfig,
        word_list: Vec<Box<str>>,
        bigram_list: Vec<(u32, u32)>,
        gram_list: Vec<u64>,
        idf: Vec<f32>,
    ) -> Result<FeatureSpace, String> {
        let nw = word_list.len();
        if idf.len() != nw + bigram_list.len() + gram_list.len() {
            return Err("idf length does not match the vocabulary".into());
        }
        let mut words = FxMap::default();
        words.reserve(nw);
        for (i, w) in word_list.iter().enumerate() {
            words.insert(w.clone(), i as u32);
        }
        let mut bigrams = FxMap::default();
        for (i, (a, b)) in bigram_list.iter().enumerate() {
            if *a as usize >= nw || *b as usize >= nw {
                return Err("bigram refers to a word outside the vocabulary".into());
            }
            bigrams.insert(bigram_key(*a, *b), (nw + i) as u32);
        }
        let base = nw + bigram_list.len();
        let mut grams = FxMap::default();
        let mut head_start = idf.len() as u32;
        for (i, g) in gram_list.iter().enumerate() {
            if g & HEAD != 0 && head_start == idf.len() as u32 {
                head_start = (base + i) as u32;
            }
            if g & HEAD == 0 && head_start != idf.len() as u32 {
                return Err("grams of the text after grams of the opening".into());
            }
            grams.insert(*g, (base + i) as u32);
        }
        if words.len() != nw || bigrams.len() != bigram_list.len() || grams.len() != gram_list.len() {
            return Err("duplicate vocabulary entries".into());
        }
        let segmenter = config.segmenter()?;
        let mut space = FeatureSpace {
            config,
            segmenter,
            words,
            word_list,
            bigrams,
            bigram_list,
            grams,
            gram_list,
            head_start,
            idf,
            gram_word: FxMap::default(),
        };
        space.link_grams_to_words();
        Ok(space)
    }

    /// Fills `gram_word`: which gram features spell a vocabulary word.
    fn link_grams_to_words(&mut self) {
        let base = (self.word_list.len() + self.bigram_list.len()) as u32;
        let mut links = FxMap::default();
        for (i, g) in self.gram_list.iter().enumerate() {
            if let Some(w) = self.words.get(gram_text(*g).as_str()) {
                links.insert(base + i as u32, *w);
            }
        }
        self.gram_word = links;
    }

    /// Whether feature `index` is a character n-gram.
    pub fn is_gram(&self, index: u32) -> bool {
        index as usize >= self.word_list.len() + self.bigram_list.len()
    }

    /// The word feature spelt by gram feature `index`, if the vocabulary has that word.
    pub fn word_of_gram(&self, index: u32) -> Option<u32> {
        self.gram_word.get(&index).copied()
    }

    /// The configuration the space was fitted with.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.idf.len()
    }

    /// Whether the space has no features at all.
    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// Word texts in feature order.
    pub fn word_list(&self) -> &[Box<str>] {
        &self.word_list
    }

    /// Bigrams as pairs of word feature indices.
    pub fn bigram_list(&self) -> &[(u32, u32)] {
        &self.bigram_list
    }

    /// Gram keys in feature order.
    pub fn gram_list(&self) -> &[u64] {
        &self.gram_list
    }

    /// The IDF of every feature.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// What feature `index` stands for.
    pub fn name(&self, index: u32) -> Option<FeatureName> {
        let i = index as usize;
        let nw = self.word_list.len();
        let nb = self.bigram_list.len();
        if i < nw {
            Some(FeatureName::Word(self.word_list[i].to_string()))
        } else if i < nw + nb {
            let (a, b) = self.bigram_list[i - nw];
            Some(FeatureName::Bigram(
                self.word_list[a as usize].to_string(),
                self.word_list[b as usize].to_string(),
            ))
        } else {
            self.gram_list
                .get(i - nw - nb)
                .map(|g| FeatureName::Chars(gram_text(*g)))
        }
    }

    /// The vector of `text`.
    pub fn vectorise(&self, text: &str) -> SparseVec {
        // As `analyse`, without an allocation per word.
        let norm = feature_text_version(text, self.config.text_version);
        let tokens = self.segmenter.jieba().cut(&norm, true);
        let chars: Vec<char> = norm.chars().collect();
        let mut ws = Vec::with_capacity(tokens.len());
        let mut wf = Vec::with_capacity(tokens.len());
        for t in tokens.iter().filter(|t| !t.word.trim().is_empty()) {
            let f = self.words.get(t.word).copied().unwrap_or(NONE);
            wf.push(f);
            if f != NONE {
                ws.push(f);
            }
        }
        let mut bs = Vec::new();
        if self.config.word_bigrams {
            for p in wf.windows(2) {
                if p[0] != NONE
                    && p[1] != NONE
                    && let Some(f) = self.bigrams.get(&bigram_key(p[0], p[1]))
                {
                    bs.push(*f);
                }
            }
        }
        let mut gs = Vec::with_capacity(chars.len() * 4);
        if self.config.char_min <= 1 && self.config.char_max == 3 {
            self.known_grams(&chars, 0, &mut gs);
            let head = chars.len().min(self.config.head_chars as usize);
            if head > 0 && self.config.head_weight > 0.0 {
                self.known_grams(&chars[..head], HEAD, &mut gs);
            }
        } else {
            for_each_gram(&chars, &self.config, |key| {
                if let Some(f) = self.grams.get(&key) {
                    gs.push(*f);
                }
            });
        }
        self.weigh(counts(ws), counts(bs), counts(gs))
    }

    /// The features of the 1-, 2- and 3-grams of `chars` (with `flag`), looking a gram up only
    /// when the grams inside it are features: a gram in `min_df` documents has its parts in at
    /// least as many, so a gram with an unknown part is unknown too. Most look-ups miss the cache,
    /// and this skips the ones that would miss anyway.
    fn known_grams(&self, chars: &[char], flag: u64, out: &mut Vec<u32>) {
        let get = |g: &[char]| self.grams.get(&(gram_key(g) | flag)).copied();
        let uni: Vec<Option<u32>> = chars.iter().map(|c| get(std::slice::from_ref(c))).collect();
        out.extend(uni.iter().flatten());
        let bi: Vec<Option<u32>> = (0..chars.len().saturating_sub(1))
            .map(|i| {
                if uni[i].is_some() && uni[i + 1].is_some() {
                    get(&chars[i..i + 2])
                } else {
                    None
                }
            })
            .collect();
        out.extend(bi.iter().flatten());
        for i in 0..chars.len().saturating_sub(2) {
            if bi[i].is_some()
                && bi[i + 1].is_some()
                && let Some(f) = get(&chars[i..i + 3])
            {
                out.push(f);
            }
        }
    }

    /// Sublinear TF-IDF per block, each block L2-normalised and scaled by its weight; blocks are
    /// in index order (words < bigrams < grams < grams of the opening), so the result is sorted.
    /// Every input is sorted by feature index.
    fn weigh(
        &self,
        words: Vec<(u32, u32)>,
        bigrams: Vec<(u32, u32)>,
        mut grams: Vec<(u32, u32)>,
    ) -> SparseVec {
        let split = grams.partition_point(|(f, _)| *f < self.head_start);
        let head = grams.split_off(split);
        let blocks = [words, bigrams, grams, head];
        let weights = [
            self.config.word_weight,
            self.config.bigram_weight,
            self.config.char_weight,
            self.config.head_weight,
        ];
        let total: usize = blocks.iter().map(Vec::len).sum();
        let mut out = SparseVec {
            indices: Vec::with_capacity(total),
            values: Vec::with_capacity(total),
        };
        for (block, weight) in blocks.iter().zip(weights) {
            let start = out.values.len();
            let mut norm = 0f32;
            for (f, tf) in block {
                let v = (1.0 + (*tf as f32).ln()) * self.idf[*f as usize];
                norm += v * v;
                out.indices.push(*f);
                out.values.push(v);
            }
            if norm > 0.0 {
                let scale = weight / norm.sqrt();
                out.values[start..].iter_mut().for_each(|v| *v *= scale);
            }
        }
        out
    }
}

impl FittedCorpus<'_> {
    /// The vector of corpus document `doc`, equal to `space.vectorise` of its text.
    pub fn vectorise_doc(&self, doc: usize) -> SparseVec {
        let d = &self.corpus.docs[doc];
        let map = |terms: &[(u32, u32)], table: &[u32]| -> Vec<(u32, u32)> {
            let mut v: Vec<(u32, u32)> = terms
                .iter()
                .filter_map(|(id, n)| {
                    let f = table[*id as usize];
                    (f != NONE).then_some((f, *n))
                })
                .collect();
            v.sort_unstable();
            v
        };
        self.space.weigh(
            map(&d.words, &self.word_map),
            map(&d.bigrams, &self.bigram_map),
            map(&d.grams, &self.gram_map),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_and_id_numbers_are_masked() {
        let t = feature_text("我的电话13812345678，身份证43010519900307123X，座机0731-88886666");
        assert!(!t.contains("1381234"), "{t}");
        assert!(
            t.contains(MASK_PHONE) && t.contains(MASK_ID) && t.contains(MASK_NUMBER),
            "{t}"
        );
        assert_eq!(
            feature_text("电话 138-1234-5678 找我"),
            format!("电话 {MASK_PHONE} 找我")
        );
        assert_eq!(feature_text("电话138 1234 5678"), format!("电话{MASK_PHONE}"));
        // Short numbers (years, house numbers, amounts) stay.
        assert_eq!(feature_text("2019年 3栋 27000元"), "2019年 3栋 27000元");
    }

    #[test]
    fn normalisation_full_width_case_and_space() {
        assert_eq!(feature_text("  ＡＢＣ　 公交  Ｔ３航站楼 "), "abc 公交 t3航站楼");
        assert_eq!(feature_text("機場停車場"), "机场停车场");
    }

    #[test]
    fn models_from_before_the_text_version_keep_their_normalisation() {
        // A model header written before `text_version` existed.
        let old: FeatureConfig = serde_json::from_str(
            r#"{"char_min":1,"char_max":3,"word_bigrams":false,"min_df":1,"word_weight":1.0,
                "bigram_weight":0.5,"char_weight":1.0,"head_chars":60,"head_weight":0.5}"#,
        )
        .unwrap();
        assert_eq!(old.text_version, 0);
        assert_eq!(FeatureConfig::default().text_version, TEXT_VERSION);
        assert_eq!(feature_text_version("機場停車場", 0), "機場停車場");
        let texts = ["機場停車場收費", "机场停车场收费"];
        let corpus = Corpus::analyse(&texts, &old, 1);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1], &old, true);
        // Trained without the conversion, the space tells the two scripts apart as it did.
        assert_ne!(
            fitted.space.vectorise(texts[0]).indices,
            fitted.space.vectorise(texts[1]).indices
        );
        let new = FeatureConfig {
            min_df: 1,
            ..FeatureConfig::default()
        };
        let corpus = Corpus::analyse(&texts, &new, 1);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1], &new, true);
        assert_eq!(
            fitted.space.vectorise(texts[0]).indices,
            fitted.space.vectorise(texts[1]).indices
        );
    }

    #[test]
    fn the_user_dictionary_makes_its_words_features_and_travels_with_the_space() {
        let texts = ["云港捷运晚上停运太早", "云港捷运班次太少", "云港捷运车厢拥挤"];
        let word = |space: &FeatureSpace| space.word_list().iter().any(|w| &**w == "云港捷运");
        let base = FeatureConfig {
            min_df: 2,
            ..FeatureConfig::default()
        };
        let corpus = Corpus::analyse(&texts, &base, 1);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1, 2], &base, true);
        assert!(!word(&fitted.space), "jieba alone does not know the line's name");

        let with = FeatureConfig {
            dictionary: "云港捷运 1000 n\n".into(),
            ..base
        };
        let corpus = Corpus::analyse(&texts, &with, 2);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1, 2], &with, true);
        assert!(word(&fitted.space), "{:?}", fitted.space.word_list());
        // A space rebuilt from its parts (a model loaded from its file) cuts text the same way.
        let space = &fitted.space;
        let rebuilt = FeatureSpace::from_parts(
            space.config().clone(),
            space.word_list().to_vec(),
            space.bigram_list().to_vec(),
            space.gram_list().to_vec(),
            space.idf().to_vec(),
        )
        .expect("rebuilt");
        let probe = "云港捷运什么时候恢复";
        assert_eq!(rebuilt.vectorise(probe).indices, space.vectorise(probe).indices);
        assert_eq!(space.vectorise(texts[0]).indices, fitted.vectorise_doc(0).indices);

        let bad = FeatureConfig {
            dictionary: "好词 x y z\n".into(),
            ..FeatureConfig::default()
        };
        assert!(bad.segmenter().is_err());
    }

    #[test]
    fn masked_numbers_never_become_features() {
        let texts = [
            "电话13812345678请回电",
            "电话13812345678请回电",
            "联系13987654321",
        ];
        let refs: Vec<&str> = texts.to_vec();
        let config = FeatureConfig::default();
        let corpus = Corpus::analyse(&refs, &config, 1);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1, 2], &config, true);
        for i in 0..fitted.space.len() as u32 {
            let name = fitted.space.name(i).map(|n| n.display()).unwrap_or_default();
            assert!(!name.chars().any(|c| c.is_ascii_digit()), "feature {name}");
        }
    }

    #[test]
    fn gram_keys_round_trip() {
        for g in ["a", "社保", "社保费", "\u{E000}号"] {
            let chars: Vec<char> = g.chars().collect();
            assert_eq!(gram_text(gram_key(&chars)), g);
            assert_eq!(gram_text(gram_key(&chars) | HEAD), g);
        }
        assert_ne!(gram_key(&['a']), gram_key(&['\0', 'a']));
    }

    #[test]
    fn corpus_and_text_paths_agree() {
        let texts = [
            "小区物业违规收取停车费，业主多次反映无果",
            "物业收费不合理，停车费太高",
            "学校乱收补课费，家长反映",
            "学校补课收费问题",
            "小区物业违规收取停车费",
        ];
        let config = FeatureConfig::default();
        let corpus = Corpus::analyse(&texts, &config, 2);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1, 2, 3, 4], &config, true);
        for (i, t) in texts.iter().enumerate() {
            let a = fitted.vectorise_doc(i);
            let b = fitted.space.vectorise(t);
            assert_eq!(a.indices, b.indices);
            for (x, y) in a.values.iter().zip(&b.values) {
                assert!((x - y).abs() < 1e-6);
            }
            assert!(a.indices.windows(2).all(|w| w[0] < w[1]));
        }
        // Each block is unit length times its weight.
        let v = fitted.space.vectorise(texts[0]);
        let norm: f32 = v.values.iter().map(|x| x * x).sum();
        let c = &config;
        let bigrams = if c.word_bigrams {
            c.bigram_weight.powi(2)
        } else {
            0.0
        };
        let expected = c.word_weight.powi(2) + bigrams + c.char_weight.powi(2) + c.head_weight.powi(2);
        assert!((norm - expected).abs() < 1e-4, "{norm} vs {expected}");
    }

    #[test]
    fn analysing_on_several_threads_gives_the_same_vectors() {
        let texts = [
            "小区物业违规收取停车费",
            "物业收费不合理，停车费太高",
            "学校乱收补课费",
            "学校补课收费问题，物业",
            "停车费",
            "补课",
            "噪音扰民噪音",
        ];
        let config = FeatureConfig {
            word_bigrams: true,
            ..FeatureConfig::default()
        };
        let one = Corpus::analyse(&texts, &config, 1);
        let three = Corpus::analyse(&texts, &config, 3);
        assert_eq!(one.words.len(), three.words.len());
        assert_eq!(one.grams.len(), three.grams.len());
        let all: Vec<usize> = (0..texts.len()).collect();
        let (a, b) = (
            FeatureSpace::fit(&one, &all, &config, true),
            FeatureSpace::fit(&three, &all, &config, true),
        );
        for (i, t) in texts.iter().enumerate() {
            let (x, y) = (a.vectorise_doc(i), b.space.vectorise(t));
            let names = |s: &FeatureSpace, v: &SparseVec| -> Vec<(String, i32)> {
                let mut n: Vec<(String, i32)> = v
                    .indices
                    .iter()
                    .zip(&v.values)
                    .map(|(j, x)| (format!("{:?}", s.name(*j)), (x * 1e5) as i32))
                    .collect();
                n.sort();
                n
            };
            assert_eq!(names(&a.space, &x), names(&b.space, &y), "{t}");
        }
    }

    #[test]
    fn min_df_drops_rare_terms_and_names_features() {
        let texts = ["停车收费", "停车难", "噪音扰民"];
        let config = FeatureConfig {
            min_df: 2,
            ..FeatureConfig::default()
        };
        let corpus = Corpus::analyse(&texts, &config, 1);
        let fitted = FeatureSpace::fit(&corpus, &[0, 1, 2], &config, true);
        let names: Vec<String> = (0..fitted.space.len() as u32)
            .filter_map(|i| fitted.space.name(i))
            .map(|n| n.display())
            .collect();
        assert!(names.contains(&"停车".to_string()), "{names:?}");
        assert!(!names.iter().any(|n| n.contains('噪')), "{names:?}");
        assert!(fitted.space.vectorise("噪音").indices.is_empty());
    }
}
