//! The dependency graph: cycles, dependents and waves (DESIGN §5).
//!
//! Plain maps of names in, plain lists out; deterministic (names sorted) so a plan never depends
//! on hash order.

use std::collections::{BTreeMap, BTreeSet};

/// `service -> the services it depends on`.
pub type Deps<'a> = BTreeMap<&'a str, Vec<&'a str>>;

/// A cycle, if there is one, as the path that closes it: `["api", "auth", "api"]`.
/// Searches from names in order, so the same graph always names the same cycle.
pub fn find_cycle(deps: &Deps<'_>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let mut marks: BTreeMap<&str, Mark> = deps.keys().map(|k| (*k, Mark::New)).collect();
    for start in deps.keys() {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        // Iterative DFS: (node, index of the next dependency to visit).
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        marks.insert(start, Mark::OnStack);
        while let Some((node, next)) = stack.last().copied() {
            let children = deps.get(node).map(Vec::as_slice).unwrap_or(&[]);
            if let Some(child) = children.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match marks.get(child).copied() {
                    Some(Mark::New) => {
                        marks.insert(child, Mark::OnStack);
                        stack.push((child, 0));
                    }
                    Some(Mark::OnStack) => {
                        let from = stack.iter().position(|(n, _)| n == child).unwrap_or(0);
                        let mut cycle: Vec<String> =
                            stack[from..].iter().map(|(n, _)| n.to_string()).collect();
                        cycle.push(child.to_string());
                        return Some(cycle);
                    }
                    // Done, or a name that is not a service (reported elsewhere).
                    _ => {}
                }
            } else {
                marks.insert(node, Mark::Done);
                stack.pop();
            }
        }
    }
    None
}

/// Every service whose `depends-on` reaches `root`, transitively, in name order.
pub fn dependents<'a>(deps: &Deps<'a>, root: &str) -> Vec<&'a str> {
    let mut reverse: BTreeMap<&str, Vec<&'a str>> = BTreeMap::new();
    for (service, ds) in deps {
        for d in ds {
            reverse.entry(d).or_default().push(service);
        }
    }
    let mut seen: BTreeSet<&'a str> = BTreeSet::new();
    let mut todo: Vec<&str> = vec![root];
    while let Some(n) = todo.pop() {
        for d in reverse.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if *d != root && seen.insert(d) {
                todo.push(d);
            }
        }
    }
    seen.into_iter().collect()
}

/// Waves for `root` and the `members` of the plan (root excluded from `members`): wave 0 is the
/// root; a member's wave is 1 + the highest wave among what it depends on within the plan.
/// Returned ordered by (wave, name). The graph must be acyclic (the manifest guarantees it).
pub fn waves<'a>(deps: &Deps<'a>, root: &'a str, members: &[&'a str]) -> Vec<(&'a str, usize)> {
    let in_plan: BTreeSet<&str> = members.iter().copied().chain([root]).collect();
    let mut wave: BTreeMap<&'a str, usize> = BTreeMap::new();
    wave.insert(root, 0);
    // Relax until stable; an acyclic graph of n nodes settles within n passes.
    for _ in 0..=members.len() {
        let mut changed = false;
        for m in members {
            let w = deps
                .get(m)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter(|d| in_plan.contains(*d))
                .filter_map(|d| wave.get(d))
                .max()
                .map_or(1, |w| w + 1);
            if wave.get(m) != Some(&w) {
                wave.insert(m, w);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out: Vec<(&str, usize)> = wave.into_iter().collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps<'a>(edges: &[(&'a str, &[&'a str])]) -> Deps<'a> {
        edges.iter().map(|(s, d)| (*s, d.to_vec())).collect()
    }

    #[test]
    fn diamond_waves() {
        let g = deps(&[
            ("api", &[]),
            ("worker", &["api"]),
            ("admin", &["api"]),
            ("web", &["api", "worker"]),
        ]);
        let members = dependents(&g, "api");
        assert_eq!(members, vec!["admin", "web", "worker"]);
        assert_eq!(
            waves(&g, "api", &members),
            vec![("api", 0), ("admin", 1), ("worker", 1), ("web", 2)]
        );
    }

    #[test]
    fn names_the_cycle() {
        let g = deps(&[("api", &["auth"]), ("auth", &["api"]), ("db", &[])]);
        assert_eq!(
            find_cycle(&g),
            Some(vec!["api".into(), "auth".into(), "api".into()])
        );
        let g = deps(&[("a", &["a"])]);
        assert_eq!(find_cycle(&g), Some(vec!["a".into(), "a".into()]));
        let g = deps(&[("db", &[]), ("auth", &["db"]), ("api", &["auth", "db"])]);
        assert_eq!(find_cycle(&g), None);
    }

    #[test]
    fn dependents_ignore_unrelated_services() {
        let g = deps(&[
            ("db", &[]),
            ("auth", &["db"]),
            ("api", &["auth"]),
            ("ui", &[]),
        ]);
        assert_eq!(dependents(&g, "db"), vec!["api", "auth"]);
        assert_eq!(dependents(&g, "ui"), Vec::<&str>::new());
    }
}
