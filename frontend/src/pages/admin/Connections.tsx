export function Connections({ tenant }: { tenant: string }) {
  return <div className="empty">Connections of {tenant}</div>;
}
