// What the console remembers about the plans it launched, to show the queue: the server's
// progress names only the athlete up next, and its `order` lists step numbers. Steps are
// numbered as server/plans/definition.py plan_steps does: block by block, round-robin
// (everyone's rep 1, then rep 2) or per athlete (all reps of one, then the next).

const KEY = (planId) => `agility-plan-${planId}`;

/** Saves a launched plan with each block's athletes resolved (a group as the server does). */
export function rememberPlan(planId, plan, rosters) {
  try {
    localStorage.setItem(KEY(planId), JSON.stringify({ plan, rosters }));
  } catch {
    /* storage full or blocked: the run view shows less, nothing breaks */
  }
}

function recall(planId) {
  try {
    return JSON.parse(localStorage.getItem(KEY(planId)) || "null");
  } catch {
    return null;
  }
}

export function planSteps(plan, rosters) {
  const steps = [];
  plan.blocks.forEach((block, b) => {
    const roster = rosters[b] || [];
    const reps = block.reps || 1;
    const pairs = [];
    if ((block.order || "round-robin") === "round-robin") {
      for (let rep = 1; rep <= reps; rep++) for (const name of roster) pairs.push([name, rep]);
    } else {
      for (const name of roster) for (let rep = 1; rep <= reps; rep++) pairs.push([name, rep]);
    }
    for (const [athlete, rep] of pairs) {
      steps.push({ index: steps.length, block: b, drill: block.drill, athlete, block_rep: rep });
    }
  });
  return steps;
}

/**
 * The reps still to come, the current one first ({athlete, drill, block, block_rep}); from
 * the remembered plan and the server's `order`, or only the next one when the plan is not known.
 */
export function queueOf(info) {
  const progress = (info && info.progress) || {};
  const next = progress.next;
  const known = info ? recall(info.plan_id) : null;
  if (known && Array.isArray(progress.order)) {
    const steps = planSteps(known.plan, known.rosters);
    if (steps.length === progress.order.length) {
      const ordered = progress.order.map((i) => steps[i]).filter(Boolean);
      const rest = ordered.slice(progress.index || 0);
      // While a rep runs, `index` still points at it; its athlete is `next`.
      if (!next || (rest[0] && rest[0].athlete === next.athlete)) return rest;
    }
  }
  return next ? [{ ...next }] : [];
}
