//! Japanese and English text as search terms, the way Elasticsearch's `cjk` analyzer does it.
//!
//! Runs of CJK characters (kanji, hiragana, katakana, hangul) become overlapping bigrams
//! ("肺がん" → "肺が", "がん"); a CJK character on its own becomes a unigram. Everything else is
//! split into words of letters and digits, lowercased and stemmed (English Snowball: "cancers" →
//! "cancer"). Full-width ASCII is folded to ASCII first ("ＧＷＡＳ" → "gwas"). No dictionary: a
//! morphological analyser would segment better, but the ones for Rust download their dictionary
//! at build time, which a sealed build cannot do; bigrams need nothing and find every word a
//! person types (at the price of some false matches, which ranking pushes down).

use tantivy::tokenizer::{Language, LowerCaser, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer};

/// The name the index registers the analyzer under.
pub const ANALYZER: &str = "musubi_cjk";

/// The analyzer: CJK bigrams, lowercased and stemmed words.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(CjkBigramTokenizer).filter(LowerCaser).filter(Stemmer::new(Language::English)).build()
}

/// The tokens `text` yields, as the index stores them (for queries and tests).
pub fn terms(text: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Splits text into CJK bigrams and words (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct CjkBigramTokenizer;

/// Whether `c` is written without spaces between words (Han, kana, hangul, the prolonged sound
/// mark and iteration marks).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3006 | 0x303B            // 々 〆 〻
        | 0x3040..=0x30FF                    // hiragana, katakana (with ー)
        | 0x31F0..=0x31FF                    // katakana extensions
        | 0x3400..=0x4DBF                    // CJK extension A
        | 0x4E00..=0x9FFF                    // CJK unified ideographs
        | 0xF900..=0xFAFF                    // compatibility ideographs
        | 0xFF66..=0xFF9F                    // half-width katakana
        | 0xAC00..=0xD7AF                    // hangul syllables
        | 0x20000..=0x2FA1F)                 // extensions B–F, compatibility supplement
}

/// Full-width ASCII (U+FF01–U+FF5E) as ASCII, so that "ＧＷＡＳ" and "GWAS" are one word.
fn fold_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

impl Tokenizer for CjkBigramTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let mut tokens = Vec::new();
        let mut position = 0;
        let mut push = |tokens: &mut Vec<Token>, from: usize, to: usize, text: String| {
            tokens.push(Token { offset_from: from, offset_to: to, position, text, position_length: 1 });
            position += 1;
        };
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let end_of = |i: usize| chars.get(i + 1).map_or(text.len(), |(o, _)| *o);
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i].1;
            if is_cjk(c) {
                let start = i;
                while i < chars.len() && is_cjk(chars[i].1) {
                    i += 1;
                }
                if i - start == 1 {
                    push(&mut tokens, chars[start].0, end_of(start), c.to_string());
                } else {
                    for j in start..i - 1 {
                        let bigram: String = [chars[j].1, chars[j + 1].1].into_iter().collect();
                        push(&mut tokens, chars[j].0, end_of(j + 1), bigram);
                    }
                }
            } else if fold_width(c).is_alphanumeric() {
                let start = i;
                let mut word = String::new();
                while i < chars.len() && !is_cjk(chars[i].1) && fold_width(chars[i].1).is_alphanumeric() {
                    word.push(fold_width(chars[i].1));
                    i += 1;
                }
                push(&mut tokens, chars[start].0, end_of(i - 1), word);
            } else {
                i += 1;
            }
        }
        VecTokenStream { tokens, next: 0 }
    }
}

/// Tokens computed up front (texts here are titles and descriptions: short).
#[derive(Debug)]
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_runs_become_bigrams_and_words_are_lowercased_and_stemmed() {
        assert_eq!(terms("肺がん"), ["肺が", "がん"]);
        assert_eq!(terms("日本人の全ゲノム"), ["日本", "本人", "人の", "の全", "全ゲ", "ゲノ", "ノム"]);
        assert_eq!(terms("Lung Cancers (WGS)"), ["lung", "cancer", "wgs"]);
        assert_eq!(terms("ＧＷＡＳ解析 of 肺"), ["gwas", "解析", "of", "肺"]);
        assert_eq!(terms("JGAD000001"), ["jgad000001"]);
    }

    #[test]
    fn offsets_cover_the_original_text() {
        let text = "全ゲノム解析 genomes";
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut spans = Vec::new();
        while stream.advance() {
            let t = stream.token();
            spans.push(&text[t.offset_from..t.offset_to]);
        }
        assert_eq!(spans, ["全ゲ", "ゲノ", "ノム", "ム解", "解析", "genomes"]);
    }
}
