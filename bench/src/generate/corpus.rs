//! Text learned from the fixtures: Markov chains over the Japanese (characters) and English
//! (words) of NBDC's research summaries and methods, JGA's titles and descriptions, so generated
//! descriptions share the real records' terms and their frequencies.

use std::collections::HashMap;

use super::Rng;

/// Fixture files whose text the chains learn (bundled with the demo).
const SOURCES: &[&str] = &[
    "fixtures/humandbs/research/hum0001.json",
    "fixtures/humandbs/research/hum0014.json",
    "fixtures/humandbs/research-version/hum0001-v1.json",
    "fixtures/humandbs/research-version/hum0005-v1.json",
    "fixtures/humandbs/research-version/hum0014-v1.json",
    "fixtures/humandbs/dataset/JGAD000001-v1.json",
    "fixtures/humandbs/dataset/JGAD000002-v1.json",
    "fixtures/humandbs/dataset/DRA000908-v1.json",
    "fixtures/jga/jga-study.xml",
    "fixtures/jga/jga-dataset.xml",
];

/// Order of the Japanese character chain and of the English word chain.
const JA_ORDER: usize = 3;
const EN_ORDER: usize = 2;

/// The learned chains.
#[derive(Debug)]
pub struct Corpus {
    ja: Chain<char>,
    en: Chain<String>,
}

#[derive(Debug)]
struct Chain<T> {
    /// Sentence openings (the first `order` tokens of each sentence).
    starts: Vec<Vec<T>>,
    next: HashMap<Vec<T>, Vec<Option<T>>>,
    order: usize,
}

impl<T: Clone + Eq + std::hash::Hash> Chain<T> {
    fn new(order: usize) -> Chain<T> {
        Chain { starts: Vec::new(), next: HashMap::new(), order }
    }

    fn learn(&mut self, sentence: &[T]) {
        if sentence.len() <= self.order {
            return;
        }
        self.starts.push(sentence[..self.order].to_vec());
        for i in 0..=sentence.len() - self.order {
            let key = sentence[i..i + self.order].to_vec();
            self.next.entry(key).or_default().push(sentence.get(i + self.order).cloned());
        }
    }

    fn walk(&self, r: &mut Rng, max: usize) -> Vec<T> {
        let mut out = self.starts[r.below(self.starts.len())].clone();
        while out.len() < max {
            let key = out[out.len() - self.order..].to_vec();
            match self.next.get(&key).map(|n| &n[r.below(n.len())]) {
                Some(Some(token)) => out.push(token.clone()),
                _ => break,
            }
        }
        out
    }
}

fn is_japanese(c: char) -> bool {
    ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c)
}

impl Corpus {
    /// Learns the chains from the bundled fixtures.
    pub fn learn() -> Corpus {
        let mut texts = Vec::new();
        for path in SOURCES {
            let bytes = musubi_gateway::demo::file(path).expect("corpus fixtures are bundled with the demo");
            if path.ends_with(".json") {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) {
                    collect_strings(&value, &mut texts);
                }
            } else if let Ok(text) = std::str::from_utf8(bytes)
                && let Ok(doc) = roxmltree::Document::parse(text)
            {
                texts.extend(doc.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).map(str::to_owned));
            }
        }
        let mut ja = Chain::new(JA_ORDER);
        let mut en = Chain::new(EN_ORDER);
        for text in texts.iter().filter(|t| t.len() > 20 && !t.starts_with("http") && !t.starts_with('<')) {
            if text.chars().any(is_japanese) {
                for sentence in text.split_inclusive('。') {
                    let chars: Vec<char> = sentence.trim().chars().collect();
                    ja.learn(&chars);
                }
            } else {
                for sentence in text.split_inclusive(". ") {
                    let words: Vec<String> = sentence.split_whitespace().map(str::to_owned).collect();
                    en.learn(&words);
                }
            }
        }
        assert!(!ja.starts.is_empty() && !en.starts.is_empty(), "the fixtures hold Japanese and English text");
        Corpus { ja, en }
    }

    /// A Japanese sentence (up to 120 characters), ending with 。.
    pub fn japanese_sentence(&self, r: &mut Rng) -> String {
        let mut s: String = self.ja.walk(r, 120).into_iter().collect();
        if !s.ends_with('。') {
            s.push('。');
        }
        s
    }

    /// An English sentence (up to 30 words), ending with a full stop.
    pub fn english_sentence(&self, r: &mut Rng) -> String {
        let mut s = self.en.walk(r, 30).join(" ");
        if !s.ends_with('.') {
            s.push('.');
        }
        s
    }
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(map) => {
            // rawHtml repeats text with markup.
            map.iter().filter(|(k, _)| k.as_str() != "rawHtml").for_each(|(_, v)| collect_strings(v, out))
        }
        _ => {}
    }
}
