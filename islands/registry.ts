/**
 * The islands by name: the server wraps each in `<div data-island="Name" data-props="…">`, and the client entry
 * looks the name up here to hydrate it. One list, so the two sides cannot disagree.
 */
import AlertList from "./AlertList.tsx";
import Controls from "./Controls.tsx";
import HistoryTable from "./HistoryTable.tsx";
import RiskPanel from "./RiskPanel.tsx";
import TrendChart from "./TrendChart.tsx";

export const ISLANDS = { Controls, TrendChart, RiskPanel, AlertList, HistoryTable } as const;

export type IslandName = keyof typeof ISLANDS;
export type IslandProps<K extends IslandName> = Parameters<(typeof ISLANDS)[K]>[0];

export function isIslandName(name: string): name is IslandName {
  return Object.hasOwn(ISLANDS, name);
}
