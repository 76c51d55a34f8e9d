export function ExperimentFormPage() {
  return <p className="muted">Coming soon.</p>;
}
