-- Celebrities: recognitions per celebrity (an image with two celebrities counts twice).
SELECT
  name AS celebrity,
  count(*) AS count
FROM celeb_view
GROUP BY name
ORDER BY count(*) DESC, name
