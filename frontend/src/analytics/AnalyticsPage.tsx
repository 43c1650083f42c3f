import { useSearchParams } from "react-router";

import { PhysicsTab } from "./PhysicsTab";
import { ScannersTab } from "./ScannersTab";
import { ScreenerTab } from "./ScreenerTab";
import { TimeMachineTab } from "./TimeMachineTab";

const TABS = [
  { value: "scanners", label: "Scanners" },
  { value: "screener", label: "Screener" },
  { value: "timemachine", label: "Time machine" },
  { value: "physics", label: "Physics" },
] as const;

/** Alpha research tools: scanners with forward-return studies, the screener, the time machine, physics signals. */
export default function AnalyticsPage() {
  const [search, setSearch] = useSearchParams();
  const tab = TABS.find((item) => item.value === search.get("tab"))?.value ?? "scanners";
  return (
    <div className="analytics-page">
      <div className="page-heading">
        <h1>Analytics</h1>
        <div className="intervals" role="tablist" aria-label="Tool">
          {TABS.map((item) => (
            <button
              key={item.value}
              type="button"
              role="tab"
              aria-selected={tab === item.value}
              className={tab === item.value ? "seg active" : "seg"}
              onClick={() => setSearch({ tab: item.value })}
            >
              {item.label}
            </button>
          ))}
        </div>
      </div>
      {tab === "scanners" && <ScannersTab />}
      {tab === "screener" && <ScreenerTab />}
      {tab === "timemachine" && <TimeMachineTab />}
      {tab === "physics" && <PhysicsTab />}
    </div>
  );
}
