import { GenrePage } from "../genres/GenrePage.tsx";

/** `/genre/{slug}`: a genre's page. */
export default function GenreScreen({ slug }: { slug: string }) {
  return <GenrePage slug={slug} />;
}
