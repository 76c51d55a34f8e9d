import { Link } from 'react-router-dom';
import { EmptyState } from '../components/States';

export function NotFoundPage() {
  return (
    <EmptyState
      title="Page not found"
      action={
        <Link to="/experiments" className="btn btn-primary">
          Go to experiments
        </Link>
      }
    >
      That address does not match any page of the dashboard.
    </EmptyState>
  );
}
