export function AuditPage() {
  return <p className="muted">Coming soon.</p>;
}
