//! `mako latency-report <dir or .hgrm files>... [--plot out.svg] [--markdown] [--title T]`:
//! prints the percentile table of latency histograms and draws their distribution plot.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::latency::plot::{Series, plot_svg, table};
use crate::latency::read_hgrm;

const USAGE: &str = "usage: mako latency-report <dir or .hgrm files>... [--plot out.svg] [--markdown] [--title TEXT]";

struct Args {
    inputs: Vec<PathBuf>,
    plot: Option<PathBuf>,
    markdown: bool,
    title: String,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        inputs: Vec::new(),
        plot: None,
        markdown: false,
        title: "Latency by percentile".into(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--plot" => {
                a.plot = Some(PathBuf::from(
                    it.next()
                        .ok_or("--plot needs a file, e.g. --plot latency.svg")?,
                ))
            }
            "--title" => a.title = it.next().ok_or("--title needs a text")?.clone(),
            "--markdown" => a.markdown = true,
            s if s.starts_with("--") => return Err(format!("unknown flag {s}")),
            s => a.inputs.push(PathBuf::from(s)),
        }
    }
    if a.inputs.is_empty() {
        return Err("give a directory of .hgrm files or .hgrm files".into());
    }
    if let Some(p) = &a.plot
        && !p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        return Err(format!(
            "--plot {}: only .svg is supported (PNG would need font files on this machine); \
             open the .svg in a browser, or convert it with a tool that has fonts",
            p.display()
        ));
    }
    Ok(a)
}

/// Expands directories into their `.hgrm` files, sorted by name; files are kept as given.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "hgrm"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{}: no .hgrm files in this directory", p.display()));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

pub fn run(args: &[String]) -> ExitCode {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("mako latency-report: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let files = match expand(&args.inputs) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("mako latency-report: {e}");
            return ExitCode::from(1);
        }
    };
    let mut series = Vec::with_capacity(files.len());
    for f in &files {
        match read_hgrm(f) {
            Ok(h) => series.push(Series::new(h, &stem(f))),
            Err(e) => {
                eprintln!("mako latency-report: {e}");
                return ExitCode::from(1);
            }
        }
    }
    print!("{}", table(&series, args.markdown));
    if let Some(out) = &args.plot {
        if let Err(e) = plot_svg(out, &args.title, &series) {
            eprintln!("mako latency-report: {e}");
            return ExitCode::from(1);
        }
        eprintln!("plot written to {}", out.display());
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn arguments() {
        let a = parse_args(&s(&["dir", "x.hgrm", "--plot", "out.SVG", "--markdown"])).unwrap();
        assert_eq!(
            a.inputs,
            vec![PathBuf::from("dir"), PathBuf::from("x.hgrm")]
        );
        assert_eq!(a.plot, Some(PathBuf::from("out.SVG")));
        assert!(a.markdown);
        let errors = [
            (vec![], "give a directory"),
            (vec!["d", "--plot"], "--plot needs"),
            (vec!["d", "--plot", "out.png"], "only .svg"),
            (vec!["d", "--bogus"], "unknown flag"),
        ];
        for (argv, want) in errors {
            match parse_args(&s(&argv)) {
                Err(e) => assert!(e.contains(want), "{argv:?}: {e}"),
                Ok(_) => panic!("{argv:?} accepted"),
            }
        }
    }

    #[test]
    fn directories_expand_to_their_hgrm_files_sorted() {
        let dir = std::env::temp_dir().join(format!("mako-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["b.hgrm", "a.hgrm", "notes.md"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let got = expand(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(got, vec![dir.join("a.hgrm"), dir.join("b.hgrm")]);
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(expand(&[empty]).unwrap_err().contains("no .hgrm files"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
