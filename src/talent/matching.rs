//! Matching talents to initiatives, in both directions. Pure: no database,
//! no HTTP. A suggestion needs at least one shared skill, learning wish or
//! activity; time, audience and nearness add to its score, and every point
//! comes with the reason that earned it.

use std::collections::BTreeSet;

/// How often someone can help, or an initiative needs help: the values of
/// the talentenscan's `tijd` question, in increasing commitment. `later`
/// ("not yet") is no time at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Time {
    Once,
    NowAndThen,
    Monthly,
    Weekly,
}

impl Time {
    pub const ALL: [Time; 4] = [Time::Once, Time::NowAndThen, Time::Monthly, Time::Weekly];

    /// The option value of `tijd`; `later` and anything else give `None`.
    pub fn parse(s: &str) -> Option<Time> {
        match s.trim() {
            "een_keer" => Some(Time::Once),
            "af_en_toe" => Some(Time::NowAndThen),
            "maandelijks" => Some(Time::Monthly),
            "wekelijks" => Some(Time::Weekly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Time::Once => "een_keer",
            Time::NowAndThen => "af_en_toe",
            Time::Monthly => "maandelijks",
            Time::Weekly => "wekelijks",
        }
    }
}

/// Where someone or something is: a buurt and its wijk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub buurt: String,
    pub wijk: Option<String>,
}

/// A resident's side of a match.
#[derive(Debug, Clone)]
pub struct Talent {
    pub id: i64,
    pub place: Place,
    /// What they are good at (`talenten`).
    pub skills: BTreeSet<String>,
    /// What they want to learn (`leren`).
    pub learn: BTreeSet<String>,
    /// What they would like to do (`doen_buurt`).
    pub activities: BTreeSet<String>,
    /// For whom (`voor_wie`); `iedereen` fits any audience.
    pub audience: BTreeSet<String>,
    pub time: Option<Time>,
}

/// An initiative's side of a match.
#[derive(Debug, Clone)]
pub struct Need {
    pub id: i32,
    pub place: Place,
    /// Skills it needs (talent domains).
    pub skills: BTreeSet<String>,
    /// Skills one can learn there (talent domains).
    pub teaches: BTreeSet<String>,
    /// Kinds of help it is (values of `doen_buurt`).
    pub activities: BTreeSet<String>,
    pub audience: BTreeSet<String>,
    /// How often it needs someone; `None`: any.
    pub time: Option<Time>,
}

/// Why a suggestion was made: each reason is worth points.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// A skill the resident has and the initiative needs.
    Skill(String),
    /// A skill the resident wants to learn and the initiative teaches.
    Learn(String),
    /// Something the resident wants to do and the initiative offers.
    Activity(String),
    /// The people both want to be there for.
    Audience(String),
    /// The resident has the time the initiative needs.
    Time(Time),
    SameBuurt(String),
    SameWijk(String),
}

impl Reason {
    pub fn points(&self) -> u32 {
        match self {
            Reason::Skill(_) => 3,
            Reason::Learn(_) | Reason::Activity(_) => 2,
            Reason::SameBuurt(_) => 3,
            Reason::Audience(_) | Reason::Time(_) | Reason::SameWijk(_) => 1,
        }
    }

    fn substantive(&self) -> bool {
        matches!(self, Reason::Skill(_) | Reason::Learn(_) | Reason::Activity(_))
    }
}

/// One suggestion: whom or what, how well it fits, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion<Id> {
    pub id: Id,
    pub score: u32,
    pub reasons: Vec<Reason>,
}

/// The value that fits any audience.
pub const ANYONE: &str = "iedereen";

/// How a talent fits a need, with reasons; `None` when they share no skill,
/// learning wish or activity.
pub fn fit(t: &Talent, n: &Need) -> Option<(u32, Vec<Reason>)> {
    let mut reasons: Vec<Reason> = Vec::new();
    reasons.extend(t.skills.intersection(&n.skills).map(|s| Reason::Skill(s.clone())));
    reasons.extend(t.learn.intersection(&n.teaches).map(|s| Reason::Learn(s.clone())));
    reasons.extend(t.activities.intersection(&n.activities).map(|s| Reason::Activity(s.clone())));
    if !reasons.iter().any(Reason::substantive) {
        return None;
    }
    let shared_audience = t.audience.intersection(&n.audience).next().cloned().or_else(|| {
        if t.audience.contains(ANYONE) {
            n.audience.iter().next().cloned()
        } else if n.audience.contains(ANYONE) {
            t.audience.iter().next().cloned()
        } else {
            None
        }
    });
    reasons.extend(shared_audience.map(Reason::Audience));
    if let (Some(have), Some(need)) = (t.time, n.time) {
        if have >= need {
            reasons.push(Reason::Time(have));
        }
    }
    if t.place.buurt == n.place.buurt {
        reasons.push(Reason::SameBuurt(t.place.buurt.clone()));
    } else if let (Some(a), Some(b)) = (&t.place.wijk, &n.place.wijk) {
        if a == b {
            reasons.push(Reason::SameWijk(a.clone()));
        }
    }
    Some((reasons.iter().map(Reason::points).sum(), reasons))
}

fn ranked<Id: Ord + Clone>(mut list: Vec<Suggestion<Id>>) -> Vec<Suggestion<Id>> {
    list.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    list
}

/// The initiatives that fit a resident, best first (ties by id).
pub fn initiatives_for(t: &Talent, needs: &[Need]) -> Vec<Suggestion<i32>> {
    ranked(
        needs
            .iter()
            .filter_map(|n| fit(t, n).map(|(score, reasons)| Suggestion { id: n.id, score, reasons }))
            .collect(),
    )
}

/// The residents who fit an initiative, best first (ties by id).
pub fn residents_for(n: &Need, talents: &[Talent]) -> Vec<Suggestion<i64>> {
    ranked(
        talents
            .iter()
            .filter_map(|t| fit(t, n).map(|(score, reasons)| Suggestion { id: t.id, score, reasons }))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn place(buurt: &str, wijk: &str) -> Place {
        Place { buurt: buurt.into(), wijk: Some(wijk.into()) }
    }

    fn talent(id: i64, skills: &[&str], buurt: &str) -> Talent {
        Talent {
            id,
            place: place(buurt, &buurt[..8]),
            skills: set(skills),
            learn: set(&[]),
            activities: set(&[]),
            audience: set(&[]),
            time: None,
        }
    }

    fn need(id: i32, skills: &[&str], buurt: &str) -> Need {
        Need {
            id,
            place: place(buurt, &buurt[..8]),
            skills: set(skills),
            teaches: set(&[]),
            activities: set(&[]),
            audience: set(&[]),
            time: None,
        }
    }

    #[test]
    fn explains_every_point() {
        let mut t = talent(1, &["koken", "tuin"], "BU07721110");
        t.learn = set(&["computers"]);
        t.audience = set(&["ouderen"]);
        t.time = Some(Time::Weekly);
        let mut n = need(7, &["koken"], "BU07721110");
        n.teaches = set(&["computers"]);
        n.audience = set(&["ouderen", "kinderen"]);
        n.time = Some(Time::Monthly);
        let (score, reasons) = fit(&t, &n).unwrap();
        assert_eq!(
            reasons,
            vec![
                Reason::Skill("koken".into()),
                Reason::Learn("computers".into()),
                Reason::Audience("ouderen".into()),
                Reason::Time(Time::Weekly),
                Reason::SameBuurt("BU07721110".into()),
            ]
        );
        assert_eq!(score, 3 + 2 + 1 + 1 + 3);
    }

    #[test]
    fn nothing_shared_is_no_suggestion() {
        let mut t = talent(1, &["koken"], "BU07721110");
        t.audience = set(&["iedereen"]);
        t.time = Some(Time::Weekly);
        let mut n = need(2, &["tuin"], "BU07721110");
        n.audience = set(&["ouderen"]);
        assert_eq!(fit(&t, &n), None, "buurt, time and audience alone are not a match");
    }

    #[test]
    fn too_little_time_earns_no_time_point() {
        let mut t = talent(1, &["koken"], "BU07721110");
        t.time = Some(Time::Once);
        let mut n = need(2, &["koken"], "BU07721110");
        n.time = Some(Time::Weekly);
        assert!(!fit(&t, &n).unwrap().1.iter().any(|r| matches!(r, Reason::Time(_))));
    }

    #[test]
    fn nearer_ranks_first() {
        let t = talent(1, &["koken"], "BU07721110");
        let needs =
            [need(1, &["koken"], "BU07729999"), need(2, &["koken"], "BU07721111"), need(3, &["koken"], "BU07721110")];
        let ids: Vec<i32> = initiatives_for(&t, &needs).iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![3, 2, 1], "same buurt, then same wijk, then elsewhere");
        let got = initiatives_for(&t, &needs);
        assert!(got[1].reasons.contains(&Reason::SameWijk("BU077211".into())));
    }

    #[test]
    fn anyone_fits_any_audience() {
        let mut t = talent(1, &["koken"], "BU07721110");
        t.audience = set(&["iedereen"]);
        let mut n = need(2, &["koken"], "BU07721110");
        n.audience = set(&["ouderen"]);
        assert!(fit(&t, &n).unwrap().1.contains(&Reason::Audience("ouderen".into())));
    }

    const DOMAINS: [&str; 6] = ["koken", "tuin", "klussen", "zorg", "talen", "computers"];
    const BUURTEN: [&str; 4] = ["BU07721110", "BU07721111", "BU07722220", "BU07722221"];

    fn arb_set() -> impl Strategy<Value = BTreeSet<String>> {
        proptest::sample::subsequence(DOMAINS.to_vec(), 0..=DOMAINS.len())
            .prop_map(|v| v.into_iter().map(String::from).collect())
    }

    fn arb_time() -> impl Strategy<Value = Option<Time>> {
        proptest::option::of(proptest::sample::select(Time::ALL.to_vec()))
    }

    prop_compose! {
        fn arb_talent(id: i64)(skills in arb_set(), learn in arb_set(), acts in arb_set(), aud in arb_set(),
                              time in arb_time(), b in 0..BUURTEN.len()) -> Talent {
            Talent { id, place: place(BUURTEN[b], &BUURTEN[b][..8]), skills, learn, activities: acts, audience: aud, time }
        }
    }

    prop_compose! {
        fn arb_need(id: i32)(skills in arb_set(), teaches in arb_set(), acts in arb_set(), aud in arb_set(),
                            time in arb_time(), b in 0..BUURTEN.len()) -> Need {
            Need { id, place: place(BUURTEN[b], &BUURTEN[b][..8]), skills, teaches, activities: acts, audience: aud, time }
        }
    }

    proptest! {
        #[test]
        fn both_directions_agree(t in arb_talent(1), n in arb_need(1)) {
            let forward = initiatives_for(&t, std::slice::from_ref(&n));
            let backward = residents_for(&n, std::slice::from_ref(&t));
            prop_assert_eq!(forward.len(), backward.len());
            if let (Some(f), Some(b)) = (forward.first(), backward.first()) {
                prop_assert_eq!(f.score, b.score);
                prop_assert_eq!(&f.reasons, &b.reasons);
            }
        }

        #[test]
        fn score_is_the_sum_of_its_reasons(t in arb_talent(1), n in arb_need(1)) {
            if let Some((score, reasons)) = fit(&t, &n) {
                prop_assert_eq!(score, reasons.iter().map(Reason::points).sum::<u32>());
                prop_assert!(reasons.iter().any(|r| r.substantive()), "every suggestion shares something real");
                for r in &reasons {
                    let ok = match r {
                        Reason::Skill(s) => t.skills.contains(s) && n.skills.contains(s),
                        Reason::Learn(s) => t.learn.contains(s) && n.teaches.contains(s),
                        Reason::Activity(s) => t.activities.contains(s) && n.activities.contains(s),
                        _ => true,
                    };
                    prop_assert!(ok, "a reason that is not true: {:?}", r);
                }
            }
        }

        #[test]
        fn rankings_are_sorted_and_complete(t in arb_talent(1), needs in proptest::collection::vec(arb_need(0), 0..12)) {
            let needs: Vec<Need> = needs.into_iter().enumerate().map(|(i, mut n)| { n.id = i as i32; n }).collect();
            let got = initiatives_for(&t, &needs);
            prop_assert!(got.windows(2).all(|w| w[0].score > w[1].score || (w[0].score == w[1].score && w[0].id < w[1].id)));
            let fitting = needs.iter().filter(|n| fit(&t, n).is_some()).count();
            prop_assert_eq!(got.len(), fitting);
        }

        #[test]
        fn sharing_one_more_skill_never_lowers_the_score(t in arb_talent(1), n in arb_need(1), extra in proptest::sample::select(DOMAINS.to_vec())) {
            let before = fit(&t, &n).map(|f| f.0).unwrap_or(0);
            let (mut t2, mut n2) = (t.clone(), n.clone());
            t2.skills.insert(extra.to_string());
            n2.skills.insert(extra.to_string());
            let after = fit(&t2, &n2).map(|f| f.0).unwrap_or(0);
            prop_assert!(after >= before);
        }

        #[test]
        fn moving_next_door_never_lowers_the_rank(t in arb_talent(1), n in arb_need(1)) {
            let mut near = n.clone();
            near.place = t.place.clone();
            let far = fit(&t, &n).map(|f| f.0);
            let close = fit(&t, &near).map(|f| f.0);
            prop_assert_eq!(far.is_some(), close.is_some());
            prop_assert!(close >= far);
        }
    }
}
