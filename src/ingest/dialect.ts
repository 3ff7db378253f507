/**
 * The upstream dialect: every name the Darshan `/signals/summary` contract uses, in one place, so that an
 * upstream with other names is a configuration change (`DARSHAN_DIALECT`), not a rewrite. See docs/UPSTREAM.md.
 * Data only: the client's reading of these names is in `normalize.ts`, and the mock upstream shares the names
 * but not that code.
 */

export interface Dialect {
  /** Query parameter names. */
  params: { from: string; to: string; pageSize: string; cursor: string; page: string };
  /** Body fields, first present wins. */
  body: { data: string[]; nextCursor: string[]; page: string[]; totalPages: string[]; hasMore: string[] };
  /** Record fields, first present wins. */
  record: {
    signal: string[];
    timestamp: string[];
    score: string[];
    agentStates: string[];
    eventCount: string[];
  };
  /** Signal of a record that names none. */
  defaultSignal: string;
}

/** What the dialects share: all but the window and cursor names. */
const COMMON = {
  body: {
    data: ["data"],
    page: ["page"],
    totalPages: ["total_pages", "totalPages"],
    hasMore: ["has_more", "hasMore"],
  },
  record: {
    signal: ["signal", "signal_id", "signalId"],
    timestamp: ["timestamp"],
    score: ["coherenceScore", "coherence_score"],
    agentStates: ["agentStates", "agent_states"],
    eventCount: ["eventCount", "event_count"],
  },
  defaultSignal: "default",
};

export const DIALECTS = {
  /** Darshan as documented: `from`/`to`, `cursor` → `next_cursor`. */
  darshan: {
    ...COMMON,
    params: { from: "from", to: "to", pageSize: "page_size", cursor: "cursor", page: "page" },
    body: { ...COMMON.body, nextCursor: ["next_cursor", "nextCursor", "next_page"] },
  },
  /** The other published dialect: `start_ts`/`end_ts`, `next_page` for the cursor. */
  start_end: {
    ...COMMON,
    params: { from: "start_ts", to: "end_ts", pageSize: "page_size", cursor: "next_page", page: "page" },
    body: { ...COMMON.body, nextCursor: ["next_page", "next_cursor", "nextCursor"] },
  },
} as const satisfies Record<string, Dialect>;

export type DialectName = keyof typeof DIALECTS;
export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];
