import type { TenantDetail } from "../../api/types";

export function Settings({ tenant }: { tenant: TenantDetail; onSaved: (t: TenantDetail) => void }) {
  return <div className="empty">Settings of {tenant.name}</div>;
}
