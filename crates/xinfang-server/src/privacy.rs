//! Personal numbers the petitioner typed into the text itself.
//!
//! The store masks the petitioner's recorded phone and ID numbers; but people also write
//! "请打我电话13812345678" into the content. Whoever may not reveal personal data (everyone but
//! the petition office's clerks and supervisors) sees such numbers masked in titles, contents
//! and reply drafts as well (`138****5678`), in every answer that carries them: a matter, a
//! list, a queue, a reminder. Those who may reveal see the text as written: the reveal of the
//! recorded numbers is the audited act, and the text is what they register and answer.

use xinfang_core::matter::Matter;
use xinfang_core::org::StaffActor;
use xinfang_nlp::segment::mask_personal_numbers;
use xinfang_store::{MatterSummary, MatterView, Page, QueuedMatter, Reminder};

fn needed(viewer: &StaffActor) -> bool {
    !viewer.may_reveal_personal_data()
}

fn mask_in_place(s: &mut String) {
    let masked = mask_personal_numbers(s);
    if masked != *s {
        *s = masked;
    }
}

fn matter(m: &mut Matter) {
    mask_in_place(&mut m.title);
    mask_in_place(&mut m.content);
    if let Some(r) = m.reply.as_mut() {
        mask_in_place(&mut r.text);
    }
}

pub fn view(viewer: &StaffActor, mut v: MatterView) -> MatterView {
    if needed(viewer) {
        matter(&mut v.matter);
    }
    v
}

pub fn summaries(viewer: &StaffActor, mut items: Vec<MatterSummary>) -> Vec<MatterSummary> {
    if needed(viewer) {
        for s in &mut items {
            mask_in_place(&mut s.title);
        }
    }
    items
}

pub fn page(viewer: &StaffActor, mut p: Page<MatterSummary>) -> Page<MatterSummary> {
    p.items = summaries(viewer, std::mem::take(&mut p.items));
    p
}

pub fn queue(viewer: &StaffActor, mut q: Vec<QueuedMatter>) -> Vec<QueuedMatter> {
    if needed(viewer) {
        for e in &mut q {
            mask_in_place(&mut e.matter.title);
        }
    }
    q
}

pub fn reminders(viewer: &StaffActor, mut r: Vec<Reminder>) -> Vec<Reminder> {
    if needed(viewer) {
        for e in &mut r {
            mask_in_place(&mut e.title);
        }
    }
    r
}
