-- Labels and faces: the most frequent detect_labels labels over all analysed photos.
SELECT
  label_name,
  count(*) AS count
FROM media_image_labels_query
GROUP BY label_name
ORDER BY count(*) DESC, label_name
LIMIT 50
