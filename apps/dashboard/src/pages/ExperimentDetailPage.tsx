export function ExperimentDetailPage() {
  return <p className="muted">Coming soon.</p>;
}
