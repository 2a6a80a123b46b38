//! Just enough XML for Grid Engine's `qstat -xml`: elements, attributes kept
//! as raw text, character data with the five named entities and numeric
//! references, comments, processing instructions, CDATA. No DTDs, no
//! namespaces (a prefix is part of the name). Malformed input is an error.

use std::borrow::Cow;

/// One piece of a document, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// `<name attrs>` (a self-closing element gives `Start` then `End`).
    Start {
        name: &'a str,
        attrs: &'a str,
    },
    End {
        name: &'a str,
    },
    /// Character data, entities decoded (borrowed when there are none);
    /// whitespace-only runs are dropped.
    Text(Cow<'a, str>),
}

/// Every event of `text`, or the reason it is not well-formed enough to read.
#[cfg(test)]
pub(crate) fn events(text: &str) -> Result<Vec<Event<'_>>, String> {
    let mut out = Vec::new();
    each_event(text, |e| out.push(e))?;
    Ok(out)
}

/// Hand every event of `text` to `sink` as it is read (no event list is built).
pub(crate) fn each_event<'a>(text: &'a str, mut sink: impl FnMut(Event<'a>)) -> Result<(), String> {
    let out = &mut sink;
    let mut open: Vec<&str> = Vec::new();
    let mut rest = text;
    let mut at = 0usize;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(out, rest)?;
            break;
        };
        push_text(out, &rest[..lt])?;
        let tag = &rest[lt..];
        let skip = |end: &str| -> Result<usize, String> {
            tag.find(end)
                .map(|i| i + end.len())
                .ok_or_else(|| format!("unterminated markup at byte {}", at + lt))
        };
        let used = if tag.starts_with("<?") {
            skip("?>")?
        } else if tag.starts_with("<!--") {
            skip("-->")?
        } else if let Some(body) = tag.strip_prefix("<![CDATA[") {
            let end = body
                .find("]]>")
                .ok_or_else(|| format!("unterminated CDATA at byte {}", at + lt))?;
            out(Event::Text(Cow::Borrowed(&body[..end])));
            "<![CDATA[".len() + end + 3
        } else if tag.starts_with("<!") {
            skip(">")?
        } else {
            let end = tag
                .find('>')
                .ok_or_else(|| format!("unterminated tag at byte {}", at + lt))?;
            let inner = &tag[1..end];
            if let Some(name) = inner.strip_prefix('/') {
                let name = name.trim();
                match open.pop() {
                    Some(o) if o == name => out(Event::End { name }),
                    Some(o) => return Err(format!("</{name}> closes <{o}>")),
                    None => return Err(format!("</{name}> closes nothing")),
                }
            } else {
                let (body, closed) = match inner.strip_suffix('/') {
                    Some(b) => (b, true),
                    None => (inner, false),
                };
                let split = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
                let (name, attrs) = (&body[..split], body[split..].trim());
                if name.is_empty() || name.contains(['<', '"', '\'', '=']) {
                    return Err(format!("bad tag <{inner}>"));
                }
                out(Event::Start { name, attrs });
                if closed {
                    out(Event::End { name });
                } else {
                    open.push(name);
                }
            }
            end + 1
        };
        rest = &tag[used..];
        at += lt + used;
    }
    match open.last() {
        Some(name) => Err(format!("<{name}> is never closed")),
        None => Ok(()),
    }
}

fn push_text<'a>(out: &mut impl FnMut(Event<'a>), raw: &'a str) -> Result<(), String> {
    if raw.trim().is_empty() {
        return Ok(());
    }
    out(Event::Text(unescape(raw)?));
    Ok(())
}

/// Decode `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` and `&#N;` / `&#xN;`.
pub(crate) fn unescape(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw.contains('&') {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after
            .find(';')
            .filter(|&i| i <= 10)
            .ok_or_else(|| format!("bad entity in {:?}", shorten(raw)))?;
        let name = &after[..semi];
        let ch = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) =
                    name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
                {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = name.strip_prefix('#') {
                    dec.parse::<u32>().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{name}; in {:?}", shorten(raw)))?
            }
        };
        out.push(ch);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_text_and_entities() {
        let doc = "<?xml version='1.0'?>\n<a x=\"1\"><!-- c --><b state='pending'>R&amp;D &lt;1&gt; &#65;&#x42;</b><c/><d><![CDATA[<raw>]]></d></a>";
        let ev = events(doc).unwrap();
        assert_eq!(
            ev,
            vec![
                Event::Start {
                    name: "a",
                    attrs: "x=\"1\""
                },
                Event::Start {
                    name: "b",
                    attrs: "state='pending'"
                },
                Event::Text("R&D <1> AB".into()),
                Event::End { name: "b" },
                Event::Start {
                    name: "c",
                    attrs: ""
                },
                Event::End { name: "c" },
                Event::Start {
                    name: "d",
                    attrs: ""
                },
                Event::Text("<raw>".into()),
                Event::End { name: "d" },
                Event::End { name: "a" },
            ]
        );
    }

    #[test]
    fn malformed_is_an_error() {
        for bad in [
            "<a>",
            "<a></b>",
            "</a>",
            "<a",
            "<a>&bogus;</a>",
            "<!-- x",
            "<>",
            "<a>&#xD800;</a>",
        ] {
            assert!(events(bad).is_err(), "{bad}");
        }
    }
}
