/**
 * Alerts island: the active alerts (medium, high) of every signal and window, worst first, each with its
 * level, since when and why, then the keys waiting out ALERT_FOR on a new level. From `/coherence/alerts`; a
 * row's link selects that signal and window (a plain link without JavaScript).
 */
import { formatSignal, formatUtc, riskClass, riskLabel } from "../src/page/format.ts";
import { selectionQuery } from "../src/page/selection.ts";
import type { AlertList as AlertListData, AlertStateBody, Selection } from "../src/page/types.ts";
import { data, select } from "./live.ts";

export interface AlertListProps {
  alerts: AlertListData | null;
  selection: Selection;
}

function AlertRow(
  { alert, current, pending }: { alert: AlertStateBody; current: Selection; pending: boolean },
) {
  const level = pending && alert.pending ? alert.pending.level : alert.level;
  const since = pending && alert.pending ? alert.pending.since : alert.since;
  const href = selectionQuery({ ...current, signal: alert.signal, window: alert.window });
  const selected = alert.signal === current.signal && alert.window === current.window;
  return (
    <li
      class={`alert ${riskClass(level)}${selected ? " alert-selected" : ""}`}
      data-testid={pending ? "pending-alert" : "active-alert"}
      data-signal={alert.signal}
      data-window={alert.window}
    >
      <a
        href={href}
        onClick={(event) => {
          event.preventDefault();
          select({ signal: alert.signal, window: alert.window });
        }}
      >
        <span class="risk-text alert-level">
          {pending ? `pending ${riskLabel(level)}` : riskLabel(level)}
        </span>
        {" · "}
        <strong>{formatSignal(alert.signal)}</strong>, {alert.window}
      </a>{" "}
      <span class="alert-since">
        since <time dateTime={since ?? undefined}>{since === null ? "—" : formatUtc(since)}</time>
      </span>
      <p class="alert-why">{alert.why}</p>
    </li>
  );
}

export default function AlertList(props: AlertListProps) {
  const live = data.value;
  const alerts = live ? live.alerts : props.alerts;
  const current = live ? live.selection : props.selection;
  return (
    <section class="card alerts-card" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      {alerts === null ? <p class="empty">The alert states could not be read.</p> : (
        <>
          <p class="hint">
            Every signal and window; a new level must hold for {alerts.settings.for}{" "}
            before it fires, and a recovery must clear the boundary by {alerts.settings.recoveryMargin}{" "}
            point(s).
          </p>
          {alerts.active.length === 0
            ? <p class="empty" data-testid="alerts-empty">No active alert: every key is low or unknown.</p>
            : (
              <ul class="alert-list" data-testid="active-alerts">
                {alerts.active.map((a) => (
                  <AlertRow
                    key={`${a.signal}\u0000${a.window}`}
                    alert={a}
                    current={current}
                    pending={false}
                  />
                ))}
              </ul>
            )}
          {alerts.activeTotal > alerts.active.length && (
            <p class="hint">
              … and {alerts.activeTotal - alerts.active.length} more active (see /coherence/alerts).
            </p>
          )}
          {alerts.pending.length > 0 && (
            <>
              <h3 class="alerts-subtitle">Pending</h3>
              <ul class="alert-list" data-testid="pending-alerts">
                {alerts.pending.map((a) => (
                  <AlertRow key={`${a.signal}\u0000${a.window}`} alert={a} current={current} pending />
                ))}
              </ul>
              {alerts.pendingTotal > alerts.pending.length && (
                <p class="hint">… and {alerts.pendingTotal - alerts.pending.length} more pending.</p>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}
