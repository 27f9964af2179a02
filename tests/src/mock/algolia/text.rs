//! Algolia's text handling as the mock applies it: words are runs of letters and digits,
//! compared after folding case and accents; the last query word may match as a prefix
//! (`queryType`), and words of 4 and 8 letters forgive one and two typos (`typoTolerance`).

/// A word of a text: its byte span in the original text and its folded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    pub folded: String,
}

/// Folds one character: lower case, accents removed (Latin letters), ligatures spelled out.
fn fold_char(c: char, out: &mut String) {
    let lower = c.to_lowercase();
    for c in lower {
        let plain = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'ç' | 'ć' | 'č' => "c",
            'ď' | 'đ' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => "i",
            'ñ' | 'ń' | 'ň' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
            'ý' | 'ÿ' => "y",
            'ś' | 'š' => "s",
            'ź' | 'ż' | 'ž' => "z",
            'ł' => "l",
            'ř' => "r",
            'ť' => "t",
            'ß' => "ss",
            'æ' => "ae",
            'œ' => "oe",
            other => {
                out.push(other);
                continue;
            }
        };
        out.push_str(plain);
    }
}

/// The folded form of a text (case and accents removed).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut out);
    }
    out
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            out.push(Word {
                start: s,
                end: i,
                folded: fold(&text[s..i]),
            });
        }
    }
    if let Some(s) = start {
        out.push(Word {
            start: s,
            end: text.len(),
            folded: fold(&text[s..]),
        });
    }
    out
}

/// How query words match words of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    /// `prefixLast` (Algolia's default), `prefixAll` or `prefixNone`.
    pub prefix_last: bool,
    pub prefix_all: bool,
    /// `typoTolerance` (default true).
    pub typos: bool,
}

impl Default for Matching {
    fn default() -> Self {
        Matching {
            prefix_last: true,
            prefix_all: false,
            typos: true,
        }
    }
}

/// How a query word matched a record word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Exact,
    Prefix,
    Typo(u32),
}

impl Matching {
    /// Whether query word `q` (the last of the query when `last`) matches record word `w`.
    pub fn matches(&self, q: &str, w: &str, last: bool) -> Option<Match> {
        if q == w {
            return Some(Match::Exact);
        }
        if (self.prefix_all || (self.prefix_last && last)) && w.starts_with(q) {
            return Some(Match::Prefix);
        }
        if self.typos {
            let len = q.chars().count();
            let allowed = if len >= 8 {
                2
            } else if len >= 4 {
                1
            } else {
                0
            };
            if allowed > 0 {
                let d = distance(q, w);
                if d <= allowed {
                    return Some(Match::Typo(d));
                }
            }
        }
        None
    }
}

/// Damerau-Levenshtein distance (optimal string alignment) between two words.
fn distance(a: &str, b: &str) -> u32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut d = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as u32;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = u32::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_accents() {
        assert_eq!(fold("Café ÆSIR"), "cafe aesir");
        let w = words("The Café, cafés!");
        let folded: Vec<&str> = w.iter().map(|w| w.folded.as_str()).collect();
        assert_eq!(folded, ["the", "cafe", "cafes"]);
        assert_eq!(&"The Café, cafés!"[w[1].start..w[1].end], "Café");
    }

    #[test]
    fn prefix_and_typos() {
        let strict = Matching {
            prefix_last: false,
            prefix_all: false,
            typos: false,
        };
        assert_eq!(strict.matches("cafe", "cafes", true), None);
        let m = Matching::default();
        assert_eq!(m.matches("cafe", "cafes", true), Some(Match::Prefix));
        assert_eq!(m.matches("cafe", "cafes", false), Some(Match::Typo(1)));
        assert_eq!(m.matches("cafe", "safe", false), Some(Match::Typo(1)));
        assert_eq!(m.matches("car", "bar", false), None);
        assert_eq!(
            m.matches("programing", "programming", false),
            Some(Match::Typo(1))
        );
    }
}
