import { Link } from 'react-router-dom';
import { EmptyState } from '../components/States';
import { useSession } from '../hooks/session';

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

/** A page the signed-in role may not use. */
export function NotAllowedPage() {
  const { who } = useSession();
  return (
    <EmptyState
      title="Not available for your role"
      action={
        <Link to="/experiments" className="btn btn-primary">
          Go to experiments
        </Link>
      }
    >
      You are signed in as {who?.role === 'experimenter' ? 'an' : 'a'} {who?.role ?? 'guest'}. Ask an admin if you need more access.
    </EmptyState>
  );
}
